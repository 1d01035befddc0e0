// Live updates (ADR 0030), progressive enhancement only: without this file (or without
// JavaScript) the pages are exactly as served, and a reload shows what is new.
//  - An article page (#comments[data-events]) streams its comments: a new one appears at the
//    top of the list in the page's own markup, a deleted one goes.
//  - The home page of a signed-in reader (.feed-news[data-events]) counts the new articles of
//    the people they follow: "N new articles in your feed", a link that reloads the feed.
// User text is only ever set with textContent, never parsed as HTML. EventSource reconnects by
// itself, sending the last id it saw (Last-Event-ID), and the server resumes after it.
(function () {
  "use strict";
  if (!window.EventSource) return;

  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];

  function ordinal(day) {
    var tens = day % 100;
    if (tens >= 11 && tens <= 13) return day + "th";
    return day + ({ 1: "st", 2: "nd", 3: "rd" }[day % 10] || "th");
  }

  function posted(iso) {  // as the template's date filter: "December 5th, 2026" (UTC)
    var d = new Date(iso);
    return MONTHS[d.getUTCMonth()] + " " + ordinal(d.getUTCDate()) + ", " + d.getUTCFullYear();
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function open(url, after) {  // after: the newest thing the page shows, or none (from now)
    if (after) url += (url.indexOf("?") < 0 ? "?" : "&") + "after=" + encodeURIComponent(after);
    var crossOrigin = new URL(url, location.href).origin !== location.origin;
    return new EventSource(url, { withCredentials: crossOrigin });
  }

  function commentCard(root, comment) {
    var profile = "/profile/" + encodeURIComponent(comment.author.username);
    var card = element("div", "card");
    card.id = "comment-" + comment.id;
    var block = element("div", "card-block");
    var text = element("p", "card-text");
    comment.body.split(/\r\n|\r|\n/).forEach(function (line, i) {  // linebreaksbr
      if (i > 0) text.appendChild(document.createElement("br"));
      text.appendChild(document.createTextNode(line));
    });
    block.appendChild(text);
    var footer = element("div", "card-footer");
    var pictureLink = element("a", "comment-author");
    pictureLink.href = profile;
    var picture = element("img", "comment-author-img");
    picture.src = comment.author.image || root.getAttribute("data-default-avatar");
    picture.alt = "";
    pictureLink.appendChild(picture);
    var nameLink = element("a", "comment-author", comment.author.username);
    nameLink.href = profile;
    var date = element("span", "date-posted");
    var time = element("time", null, posted(comment.createdAt));
    time.setAttribute("datetime", comment.createdAt);
    date.appendChild(time);
    footer.appendChild(pictureLink);
    footer.appendChild(document.createTextNode("\u00a0"));
    footer.appendChild(nameLink);
    footer.appendChild(date);
    card.appendChild(block);
    card.appendChild(footer);
    return card;
  }

  function liveComments(root) {
    var column = root.firstElementChild;
    var source = open(root.getAttribute("data-events"), root.getAttribute("data-events-after"));
    source.addEventListener("comment", function (event) {
      var comment = JSON.parse(event.data);
      if (document.getElementById("comment-" + comment.id)) return;  // already on the page
      var first = column.querySelector(".card[id^='comment-']");
      var card = commentCard(root, comment);
      if (first) column.insertBefore(card, first); else column.appendChild(card);
    });
    source.addEventListener("comment-deleted", function (event) {
      var gone = document.getElementById("comment-" + JSON.parse(event.data).id);
      if (gone) gone.remove();
    });
  }

  function feedNews(notice) {
    var seen = {};
    var count = 0;
    var link = notice.querySelector("[data-feed-news-link]");
    // From the moment the stream opens (marked for the tests): what was published between the
    // page's render and then is not counted (ADR 0030).
    var source = open(notice.getAttribute("data-events"), null);
    source.addEventListener("open", function () { notice.setAttribute("data-live", "open"); });
    source.addEventListener("article", function (event) {
      var article = JSON.parse(event.data);
      if (seen[article.id]) return;
      seen[article.id] = true;
      count += 1;
      link.textContent = count === 1 ? "1 new article in your feed"
        : count + " new articles in your feed";
      notice.hidden = false;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var comments = document.querySelector("#comments[data-events]");
    if (comments) liveComments(comments);
    var notice = document.querySelector(".feed-news[data-events]");
    if (notice) feedNews(notice);
  });
})();
