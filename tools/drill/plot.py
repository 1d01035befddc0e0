"""Timeline plots of `make drill` results for docs/reliability.md, one PNG per result.

    .venv/bin/python tools/drill/plot.py bench/results/drill-*-<commit>*.json

Writes docs/img/drill-<name>[-variant].png: per second of the load, the requests that succeeded
and failed (bars, by the second they were sent in) and the slowest one's latency (a line on a
log scale: a request that waited through the fault and then succeeded shows there), with the
fault's injection and, where the drill restarted a process, its restart marked.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

OUT = Path(__file__).resolve().parents[2] / "docs" / "img"


def image_name(path: Path) -> str:
    """drill-primary-kill-abc1234-sync-off.json -> drill-primary-kill-sync-off.png."""
    return re.sub(r"-[0-9a-f]{7,}(-dirty)?", "", path.stem) + ".png"


def plot(result: dict[str, Any], out: Path) -> None:
    timeline = result["timeline"]
    seconds = [t["second"] for t in timeline]
    ok = [t["ok"] for t in timeline]
    errors = [t["errors"] for t in timeline]
    fig, ax = plt.subplots(figsize=(9, 3.6))
    ax.bar(seconds, ok, width=0.9, align="edge", color="tab:green", label="succeeded")
    ax.bar(seconds, errors, width=0.9, align="edge", bottom=ok, color="tab:red", label="failed")
    ax.set_xlabel("seconds into the load (by the second a request was sent)")
    ax.set_ylabel("requests")
    fault = result["fault"]
    ax.axvline(fault["injected_at_s"], color="black", linestyle="--", linewidth=1)
    ax.annotate("fault", (fault["injected_at_s"], ax.get_ylim()[1] * 0.95), xytext=(3, 0),
                textcoords="offset points", fontsize=8)  # fmt: skip
    if "restarted_at_s" in fault:
        ax.axvline(fault["restarted_at_s"], color="tab:blue", linestyle=":", linewidth=1)
        ax.annotate("restarted", (fault["restarted_at_s"], ax.get_ylim()[1] * 0.85),
                    xytext=(3, 0), textcoords="offset points", fontsize=8)  # fmt: skip
    slow = ax.twinx()
    slow.plot([s + 0.45 for s in seconds], [max(t["max_latency_ms"], 1) for t in timeline],
              color="tab:purple", linewidth=1, marker=".", label="slowest (ms)")  # fmt: skip
    slow.set_yscale("log")
    slow.set_ylabel("slowest request (ms)")
    writes = result["writes"]
    ax.set_title(
        f"make drill {result['drill']} ({result['commit']['id']}): {result['errors']} of "
        f"{result['requests']} failed, window {result['error_window_s']:.1f} s, "
        f"{writes['lost']} acknowledged writes lost, {writes['duplicates']} duplicates",
        fontsize=9,
    )
    handles = ax.get_legend_handles_labels()
    more = slow.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(paths: list[str], out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in paths:
        path = Path(name)
        target = out / image_name(path)
        plot(json.loads(path.read_text()), target)
        print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1:])
