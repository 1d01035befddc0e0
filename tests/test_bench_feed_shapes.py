"""The feeds issue 18's bench reads (tools/bench/benchkit/feed_shapes.py), added to seed_bulk's
data in set-based SQL: a celebrity followed by as many users as there are, its fans, a heavy
follower, and every counter still consistent."""

import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from conduit.articles.counters import find_drift
from conduit.articles.models import Article
from conduit.profiles.models import Follow
from conduit.users.models import User

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools" / "bench"))
from benchkit import feed_shapes  # noqa: E402


@pytest.mark.pg
@pytest.mark.django_db(transaction=True)
def test_the_feed_shapes_are_added_once_with_consistent_counters(capsys):
    call_command("seed_bulk", users=400, articles=3_000, tags=5)
    typical = User.objects.get(pk=7)  # spared: at most max(users // 100, 300) = 300
    follows_before = set(Follow.objects.filter(follower=typical).values_list("followee", flat=True))

    added = feed_shapes.add_feed_shapes(400)

    celebrity = User.objects.get(username=feed_shapes.CELEBRITY)
    assert added["bench-celebrity"] == {"followers": 400, "following": 0, "articles": 3}
    assert celebrity.followers_count == 400 == Follow.objects.filter(followee=celebrity).count()
    assert list(Article.objects.filter(author=celebrity).values_list("pk", flat=True)
                .order_by("pk")) == [1000, 2000, 3000]  # fmt: skip
    assert not Follow.objects.filter(followee=celebrity, follower__pk__lte=300).exists()
    fan = User.objects.get(username=feed_shapes.fan_of(7))
    fan_follows = set(Follow.objects.filter(follower=fan).values_list("followee", flat=True))
    assert fan_follows == follows_before | {celebrity.pk}
    heavy = User.objects.get(username=feed_shapes.HEAVY)
    authors = User.objects.filter(articles_count__gt=0, pk__lte=400).count()
    assert heavy.following_count == min(1_000, authors) == Follow.objects.filter(
        follower=heavy).count()  # fmt: skip
    assert User.objects.count() == 400 + 2 + 300
    assert find_drift() == []
    assert feed_shapes.add_feed_shapes(400) == {"added": False}
    # The id sequence moved past the new users: a registration still gets an id.
    assert User.objects.create_user("after", "after@example.com", "pw-pw-pw-9").pk > fan.pk
