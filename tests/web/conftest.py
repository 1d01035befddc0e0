"""Fixtures for the page tests: two people with known names."""

import pytest

from conduit.users.models import User
from tests.factories import UserFactory


@pytest.fixture
def alice(db: None) -> User:
    return UserFactory(username="alice", bio="Alice writes.")


@pytest.fixture
def bob(db: None) -> User:
    return UserFactory(username="bob")
