// Progressive enhancement only: every page works without this file.
//  - The editor's "Enter tags" field turns typed tags into pills (Enter or comma adds one,
//    the x removes it), as RealWorld clients do; each pill is a hidden <input name="tag">.
//  - Forms with data-confirm ask before they submit (deleting an article).
(function () {
  "use strict";

  function addPill(list, form, name) {
    name = name.trim();
    if (!name) return;
    var existing = form.querySelectorAll('input[type="hidden"][name="tag"]');
    for (var i = 0; i < existing.length; i++) {
      if (existing[i].value === name) return;
    }
    var pill = document.createElement("span");
    pill.className = "tag-default tag-pill";
    var remove = document.createElement("i");
    remove.className = "ion-close-round";
    remove.setAttribute("role", "button");
    remove.setAttribute("tabindex", "0");
    remove.setAttribute("aria-label", "Remove tag " + name);
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "tag";
    hidden.value = name;
    function drop() { pill.remove(); }
    remove.addEventListener("click", drop);
    remove.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); drop(); }
    });
    pill.appendChild(remove);
    pill.appendChild(document.createTextNode(" " + name + " "));
    pill.appendChild(hidden);
    list.appendChild(pill);
  }

  function enhanceEditor(form) {
    var input = form.querySelector("[data-tag-input]");
    var list = form.querySelector("[data-tag-list]");
    if (!input || !list) return;
    input.value.split(",").forEach(function (name) { addPill(list, form, name); });
    input.value = "";
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === ",") {
        event.preventDefault();
        addPill(list, form, input.value);
        input.value = "";
      }
    });
    form.addEventListener("submit", function () {
      addPill(list, form, input.value);
      input.value = "";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-editor]").forEach(enhanceEditor);
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  });
})();
