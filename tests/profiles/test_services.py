"""Follow services: the pair rules and the followers/following counters."""

import pytest

from conduit.platform.exceptions import InvalidInput
from conduit.profiles.models import Follow
from conduit.profiles.selectors import profile_get
from conduit.profiles.services import follow_add, follow_remove
from conduit.users.models import User
from tests.factories import UserFactory
from tests.support import assert_counters_consistent, unchanged

pytestmark = pytest.mark.django_db


@pytest.fixture
def fan():
    return UserFactory(username="fan")


@pytest.fixture
def celeb():
    return UserFactory(username="celeb")


def counts(user: User) -> tuple[int, int]:
    user = User.objects.get(pk=user.pk)
    return user.followers_count, user.following_count


def test_follow_moves_each_counter_once(fan, celeb):
    follow_add(follower=fan, followee=celeb)
    assert Follow.objects.filter(follower=fan, followee=celeb).count() == 1
    assert counts(fan) == (0, 1)
    assert counts(celeb) == (1, 0)
    assert profile_get(username="celeb", viewer_id=fan.pk)["following"] is True
    assert profile_get(username="fan", viewer_id=celeb.pk)["following"] is False
    assert profile_get(username="celeb", viewer_id=None)["following"] is False


def test_following_twice_is_refused_and_counts_once(fan, celeb):
    follow_add(follower=fan, followee=celeb)
    with pytest.raises(InvalidInput) as exc, unchanged():
        follow_add(follower=fan, followee=celeb)
    assert exc.value.errors == {"profile": ["is already followed"]}
    assert counts(celeb) == (1, 0)


def test_following_yourself_is_refused(fan):
    with pytest.raises(InvalidInput) as exc, unchanged():
        follow_add(follower=fan, followee=fan)
    assert exc.value.errors == {"profile": ["cannot be your own"]}


def test_unfollow_moves_each_counter_back_once(fan, celeb):
    follow_add(follower=fan, followee=celeb)
    follow_remove(follower=fan, followee=celeb)
    assert not Follow.objects.exists()
    assert counts(fan) == (0, 0)
    assert counts(celeb) == (0, 0)


def test_unfollowing_when_not_following_is_refused(fan, celeb):
    follow_add(follower=celeb, followee=fan)
    with pytest.raises(InvalidInput) as exc, unchanged():
        follow_remove(follower=fan, followee=celeb)
    assert exc.value.errors == {"profile": ["is not followed"]}


def test_mutual_follows_and_many_followers_keep_exact_counters(fan, celeb):
    others = [UserFactory() for _ in range(3)]
    follow_add(follower=fan, followee=celeb)
    follow_add(follower=celeb, followee=fan)
    for other in others:
        follow_add(follower=other, followee=celeb)
        follow_add(follower=fan, followee=other)
    follow_remove(follower=others[0], followee=celeb)
    assert counts(celeb) == (3, 1)
    assert counts(fan) == (1, 4)
    followed = Follow.objects.filter(follower=fan).values_list("followee_id", flat=True)
    assert sorted(followed) == sorted([celeb.pk, *(o.pk for o in others)])
    assert_counters_consistent()


def test_profiles_are_found_ignoring_case(celeb):
    assert profile_get(username="CeLeB", viewer_id=None)["username"] == "celeb"
