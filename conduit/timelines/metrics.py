from prometheus_client import Counter

FALLBACKS = Counter(
    "conduit_timeline_fallbacks_total",
    "Home feed reads answered by the feed's query instead of the timeline, by reason.",
    ["reason"],
)
