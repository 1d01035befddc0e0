"""config/wsgi.py: what a granian worker imports loads the URLconf and freezes what it loaded."""

import os
import subprocess
import sys

from tests.pg_replica import REPO


def test_the_wsgi_module_loads_the_views_and_freezes_what_it_loaded():
    probe = (
        "import gc, sys; import config.wsgi; "
        "print(gc.get_freeze_count(), 'conduit.api.views.articles' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": str(REPO)}
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", probe], env=env, cwd=REPO, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    frozen, views_loaded = result.stdout.split()
    assert int(frozen) > 50_000  # Django, the settings, the URLconf and the views
    assert views_loaded == "True"
