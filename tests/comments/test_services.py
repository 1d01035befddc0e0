"""Comment services: the body rules, and who may delete which comment."""

import pytest

from conduit.comments.models import Comment
from conduit.comments.selectors import comment_as_created, comment_list
from conduit.comments.services import comment_create, comment_delete
from conduit.platform.exceptions import Forbidden, InvalidInput, NotFound
from tests.factories import UserFactory, make_article
from tests.support import unchanged

pytestmark = pytest.mark.django_db


@pytest.fixture
def author():
    return UserFactory(username="author")


@pytest.fixture
def reader():
    return UserFactory(username="reader")


@pytest.fixture
def article(author):
    return make_article(author, title="Commented")


def test_create_stores_the_trimmed_body_with_equal_timestamps(reader, article):
    comment = comment_create(author=reader, slug=article.slug, body="  Nice post!  ")
    stored = Comment.objects.get(pk=comment.pk)
    assert stored.body == "Nice post!"
    assert stored.author_id == reader.pk
    assert stored.article_id == article.pk
    assert stored.created_at == stored.updated_at


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "can't be blank"),
        ("", "can't be blank"),
        ("   \n\t", "can't be blank"),
        ("x" * 10_001, "is too long (maximum is 10000 characters)"),
        ("a\x00b", "must not contain NUL characters"),
    ],
)
def test_create_validation_messages(reader, article, body, message):
    with pytest.raises(InvalidInput) as exc, unchanged():
        comment_create(author=reader, slug=article.slug, body=body)
    assert exc.value.errors == {"body": [message]}


def test_create_accepts_the_maximum_length_and_unicode(reader, article):
    assert comment_create(author=reader, slug=article.slug, body="x" * 10_000).body == "x" * 10_000
    assert comment_create(author=reader, slug=article.slug, body="🎉 ça va").body == "🎉 ça va"


def test_comments_list_newest_first(reader, author, article):
    ids = [comment_create(author=reader, slug=article.slug, body=f"c{n}").pk for n in range(3)]
    assert [c["id"] for c in comment_list(article_id=article.pk, viewer_id=None)] == ids[::-1]


def test_the_author_deletes_their_comment(reader, article):
    comment = comment_create(author=reader, slug=article.slug, body="mine")
    keep = comment_create(author=reader, slug=article.slug, body="keep")
    comment_delete(user=reader, article=article, comment_id=comment.pk)
    assert list(Comment.objects.values_list("pk", flat=True)) == [keep.pk]


def test_nobody_else_may_delete_a_comment(reader, author, article):
    comment = comment_create(author=reader, slug=article.slug, body="mine")
    stranger = UserFactory(username="stranger")
    for user in (stranger, author):
        with pytest.raises(Forbidden) as exc, unchanged():
            comment_delete(user=user, article=article, comment_id=comment.pk)
        assert exc.value.what == "comment"


def test_unknown_comments_are_not_found(reader, article):
    with pytest.raises(NotFound) as exc, unchanged():
        comment_delete(user=reader, article=article, comment_id=999_999)
    assert exc.value.what == "comment"


def test_a_comment_of_another_article_is_not_found_not_forbidden(reader, author, article):
    other = make_article(author, title="Other")
    comment = comment_create(author=reader, slug=article.slug, body="on the first")
    for user in (reader, author):
        with pytest.raises(NotFound) as exc, unchanged():
            comment_delete(user=user, article=other, comment_id=comment.pk)
        assert exc.value.what == "comment"


def test_post_finds_the_article_by_slug_and_answers_as_the_thread_reads_it(reader, article):
    reader.bio, reader.image = "Reads a lot", "https://example.com/r.png"
    reader.save()
    signed_in = type(reader)(pk=reader.pk, username=reader.username)  # as authentication has it
    comment = comment_create(author=signed_in, slug=article.slug, body="  Nice post!  ")
    stored = Comment.objects.get(pk=comment.pk)
    assert (stored.article_id, stored.author_id) == (article.pk, reader.pk)
    assert stored.body == "Nice post!"
    (listed,) = comment_list(article_id=article.pk, viewer_id=reader.pk)
    assert comment_as_created(comment) == listed  # timestamps, author's bio and image included


@pytest.mark.parametrize("slug", ["no-such-article", "nul\x00in-it"])
def test_post_on_no_article_is_not_found_and_writes_nothing(reader, slug):
    with unchanged(), pytest.raises(NotFound):
        comment_create(author=reader, slug=slug, body="Hello")


def test_post_checks_the_body_before_the_article(reader):
    with unchanged(), pytest.raises(InvalidInput):
        comment_create(author=reader, slug="no-such-article", body=" ")
