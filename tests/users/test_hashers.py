"""Argon2id sized for the process (conduit/users/hashers.py): the settings' cost, a bounded
number of hashes at a time, and hashing memory that fits the Kubernetes pod."""

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password

from conduit.users import hashers
from conduit.users.hashers import SizedArgon2PasswordHasher
from conduit.users.models import User
from conduit.users.services import user_authenticate
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
SIZED = "conduit.users.hashers.SizedArgon2PasswordHasher"
# A web worker's resident memory before any hash: 113 MiB measured after serving the pages and
# the API in process (SQLite, demo data); granian's own and the allocator's slack on top.
WORKER_BASELINE_MIB = 160


@pytest.fixture
def sized(settings: Any) -> None:
    settings.PASSWORD_HASHERS = [SIZED, "django.contrib.auth.hashers.Argon2PasswordHasher"]


def test_hashes_use_the_settings_cost(sized, settings):
    settings.ARGON2_MEMORY_KIB, settings.ARGON2_TIME_COST = 8192, 3
    encoded = make_password("a-long-enough-password")
    assert encoded.startswith("argon2$argon2id$v=19$m=8192,t=3,p=1$")
    assert check_password("a-long-enough-password", encoded)


def test_the_default_cost_is_owasps(sized):
    assert "$m=19456,t=2,p=1$" in make_password("a-long-enough-password")


@pytest.mark.django_db
def test_a_hash_with_djangos_cost_is_upgraded_at_sign_in(sized):
    old = Argon2PasswordHasher().encode("a-long-enough-password", "saltsaltsaltsalt")
    assert "$m=102400,t=2,p=8$" in old
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(password=old)
    user_authenticate(email=user.email, password="a-long-enough-password")
    assert "$m=19456,t=2,p=1$" in User.objects.get(pk=user.pk).password


def test_at_most_argon2_max_concurrent_hashes_run_at_once(settings, monkeypatch):
    settings.ARGON2_MAX_CONCURRENT = 2
    running, peak, lock = 0, 0, threading.Lock()
    real = Argon2PasswordHasher.encode

    def slow(self: Any, password: str, salt: str) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return str(real(self, password, salt))

    monkeypatch.setattr(Argon2PasswordHasher, "encode", slow)
    threads = [
        threading.Thread(target=SizedArgon2PasswordHasher().encode, args=("pw", f"salt{i:012d}"))
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 2


def mebibytes(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    return float(quantity[:-2]) * units[quantity[-2:]]


def hashing_fits(memory_kib: int, concurrent: int) -> bool:
    base = ROOT / "deploy" / "k8s" / "base"
    config = yaml.safe_load((base / "configmap.yaml").read_text())["data"]
    web = yaml.safe_load((base / "deployment-web.yaml").read_text())
    [container] = web["spec"]["template"]["spec"]["containers"]
    limit = mebibytes(container["resources"]["limits"]["memory"])
    workers, threads = int(config["WEB_WORKERS"]), int(config["WEB_THREADS"])
    hashing = min(threads, concurrent) * memory_kib / 1024
    return workers * (WORKER_BASELINE_MIB + hashing) <= limit


def test_the_web_pods_workers_hashing_at_once_fit_its_memory_limit():
    assert hashing_fits(settings.ARGON2_MEMORY_KIB, settings.ARGON2_MAX_CONCURRENT)
    # Django's own cost, one hash per thread: what the review saw reach 641 MiB.
    assert not hashing_fits(102_400, 8)
    hashers.hashing_slot()  # the semaphore follows the setting
