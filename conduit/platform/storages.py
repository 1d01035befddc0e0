"""Django ``STORAGES`` from the environment: the file system by default, S3-compatible on demand.

Two file storages besides static files: ``default`` holds public media (avatars, served at
``MEDIA_URL``), ``exports`` holds personal-data zips, which are private: on the file system they
sit outside ``MEDIA_ROOT`` (nothing serves them but the signed download view), on S3 under their
own prefix with no public ACL.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

STATICFILES = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}


def storages_from_env(
    env: Mapping[str, str], *, media_root: Path, media_url: str, exports_root: Path
) -> dict[str, dict[str, Any]]:
    kind = env.get("MEDIA_STORAGE", "filesystem").strip().lower() or "filesystem"
    if kind == "filesystem":
        return {
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(media_root), "base_url": media_url},
            },
            "exports": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(exports_root), "base_url": None},
            },
            "staticfiles": STATICFILES,
        }
    if kind != "s3":
        raise ImproperlyConfigured(f"MEDIA_STORAGE must be filesystem or s3, not {kind!r}")
    bucket = env.get("AWS_STORAGE_BUCKET_NAME", "")
    if not bucket:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME")
    # Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are read by boto3 from the
    # environment (or an instance role), so they never pass through Django's settings.
    common: dict[str, Any] = {
        "bucket_name": bucket,
        "endpoint_url": env.get("AWS_S3_ENDPOINT_URL") or None,  # MinIO, R2, Ceph...
        "region_name": env.get("AWS_S3_REGION_NAME") or None,
        "file_overwrite": False,
    }
    return {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **common,
                "location": "media",
                # Public pictures: plain URLs (a CDN or custom domain in front, if set).
                "querystring_auth": False,
                "custom_domain": env.get("AWS_S3_CUSTOM_DOMAIN") or None,
            },
        },
        "exports": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {**common, "location": "exports", "default_acl": "private"},
        },
        "staticfiles": STATICFILES,
    }
