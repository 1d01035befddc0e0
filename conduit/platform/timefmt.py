from datetime import UTC, datetime


def iso_ms(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as RealWorld clients expect: 2016-02-18T03:22:56.637Z."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
