"""Django's own ASGI application, unchanged: what an API served under ASGI would run.

``make bench-events`` serves the API with it (``granian --interface asgi
benchkit.asgi_stock:application``) beside config.asgi's ``StreamsHandler``, which runs every
request's sync work in one shared thread: fine for streams, not what an API would choose.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()
