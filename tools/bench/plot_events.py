"""Plot a ``make bench-events`` result for docs/performance.md.

    .venv/bin/python tools/bench/plot_events.py bench/results/<commit>-events.json

Writes docs/img/bench-events.png: on the left, the plain API's req/s under WSGI and under ASGI
(Django's handler, and the events servers'); on the right, the WSGI API's cached list without
and with the idle streams open, with the streams' memory and delay in the title.
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

OUT = Path(__file__).resolve().parents[2] / "docs" / "img" / "bench-events.png"
SCENARIOS = ["bare", "list_cached", "list_uncached"]


def main(path: str, out: Path = OUT) -> None:
    run = json.loads(Path(path).read_text())
    api = run["api_by_interface"]
    events = run["events"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), width_ratios=[3, 1.4])
    width = 0.8 / len(api)
    for i, (variant, figures) in enumerate(api.items()):
        xs = [n + i * width for n in range(len(SCENARIOS))]
        values = [figures[s]["requests_per_s"] for s in SCENARIOS]
        bars = left.bar(xs, values, width, label=variant)
        left.bar_label(bars, fmt="%.0f", fontsize=8)
    left.set_xticks([n + width * (len(api) - 1) / 2 for n in range(len(SCENARIOS))], SCENARIOS)
    left.set_ylabel("requests/s (wrk -t1 -c32, 2 workers)")
    left.set_title("The plain API: WSGI against ASGI (granian)")
    left.legend()

    labels = ["no stream", f"{events['opened']:,} streams"]
    values = [events["api_list_without_streams"]["requests_per_s"],
              events["api_list_with_streams"]["requests_per_s"]]  # fmt: skip
    bars = right.bar(labels, values, color=["#5cb85c", "#3d8b3d"])
    right.bar_label(bars, fmt="%.0f", fontsize=8)
    delay = events["commit_to_client_ms"]
    right.set_title(
        f"WSGI list beside the events server\n{events['rss_per_stream_kib']:.0f} KiB a stream, "
        f"commit to client p99 {delay['p99']:.0f} ms",
        fontsize=10,
    )
    right.set_ylabel("requests/s")
    fig.suptitle(f"make bench-events, {run['commit']['id']} ({run['machine']['nproc']} cores)")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"written: {out}")


if __name__ == "__main__":
    main(sys.argv[1])
