from datetime import UTC, datetime


def iso_ms(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as RealWorld clients expect: 2016-02-18T03:22:56.637Z.
    (``isoformat`` is C code; ``strftime`` took three times as long on a page of 20 articles.)"""
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
