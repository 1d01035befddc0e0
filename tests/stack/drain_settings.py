"""Settings for the drain test's app server only: the test settings plus a test-only URLconf
(tests/stack/drain_urls.py) with a slow view. Production URLs never carry that view."""

from config.settings_test import *  # noqa: F403

ROOT_URLCONF = "tests.stack.drain_urls"
