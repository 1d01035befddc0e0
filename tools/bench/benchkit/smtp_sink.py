"""``make bench-fanout``'s SMTP sink: counts what arrives, so "exactly once" can be decided."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


@dataclass
class CountingSink:
    """aiosmtpd handler: counts messages per recipient and per Message-ID, keeps no bodies."""

    recipients: Counter[str] = field(default_factory=Counter)
    message_ids: Counter[str] = field(default_factory=Counter)
    received: int = 0
    first_at: float | None = None
    last_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        match = MESSAGE_ID.search(envelope.content)
        now = time.perf_counter()
        with self.lock:
            self.received += 1
            self.first_at = self.first_at or now
            self.last_at = now
            self.recipients.update(envelope.rcpt_tos)
            self.message_ids[match.group(1).decode() if match else "?"] += 1
        return "250 Message accepted for delivery"

    def delivery(self, expected: set[str]) -> dict[str, int]:
        """What arrived against the ``expected`` recipients (one email each)."""
        return {
            "expected": len(expected),
            "received": self.received,
            "distinct_recipients": len(self.recipients),
            "duplicate_emails": sum(n - 1 for n in self.recipients.values() if n > 1),
            "duplicate_message_ids": sum(n - 1 for n in self.message_ids.values() if n > 1),
            "missing_recipients": len(expected - set(self.recipients)),
            "unexpected_recipients": len(set(self.recipients) - expected),
        }
