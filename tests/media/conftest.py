"""Every test here starts with empty file storages."""

from tests.storages import fresh_file_storages

__all__ = ["fresh_file_storages"]
