"""Settings for the edge cache test's app servers only: the test settings with one cache key
prefix for both, so that they share their Redis cache as make stack's servers do (the test
settings give each process a prefix of its own)."""

from config.settings_test import *  # noqa: F403

CACHES["default"]["KEY_PREFIX"] = "edge-stack"  # noqa: F405
