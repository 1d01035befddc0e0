"""The production URLs plus ``/test-only/slow``: a request that takes ``?seconds=`` to answer,
so the drain test has requests in flight when it stops the server. It marks its start with a
file in ``DRAIN_MARK_DIR``, so the test knows the request reached a view before it signals."""

import os
import time
from pathlib import Path

from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.urls import urlpatterns as production


def slow(request: HttpRequest) -> JsonResponse:
    name = request.GET.get("name", "anonymous")
    (Path(os.environ["DRAIN_MARK_DIR"]) / name).touch()
    seconds = float(request.GET.get("seconds", "2"))
    time.sleep(seconds)
    return JsonResponse({"name": name, "slept": seconds})


urlpatterns = [path("test-only/slow", slow), *production]
