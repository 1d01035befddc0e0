"""Plot a `BENCH_EDGE=1 make bench` summary for docs/performance.md ("The edge cache").

    .venv/bin/python tools/bench/plot_edge.py bench/results/<commit>-10k-edge.json

Writes docs/img/bench-edge.png: req/s per scenario through the stack's nginx with the edge cache
on and off (log scale), each bar labelled with its p99, beside the references (nginx serving a
static file, /bench/bare through the same nginx).
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

OUT = Path(__file__).resolve().parents[2] / "docs" / "img"


def main(path: str, out: Path = OUT) -> None:
    doc = json.loads(Path(path).read_text())
    on, off = doc["edge"]["on"], doc["edge"]["off"]
    names = [name for name in on if name in off]
    out.mkdir(parents=True, exist_ok=True)

    fig, ax = plt.subplots(figsize=(11, 5))
    width = 0.4
    for i, (side, rows) in enumerate((("edge cache on", on), ("edge cache off", off))):
        xs = [x + i * width for x in range(len(names))]
        values = [rows[n]["requests_per_s"] for n in names]
        bars = ax.bar(xs, values, width, label=side, color=f"C{i}")
        for bar, name in zip(bars, names, strict=True):
            ax.annotate(f"p99 {rows[name]['p99_ms']:.1f} ms", (bar.get_x() + width / 2,
                        bar.get_height()), ha="center", va="bottom", fontsize=7,
                        rotation=90, xytext=(0, 3), textcoords="offset points")  # fmt: skip
    ax.set_yscale("log")
    ax.set_xticks([x + width / 2 for x in range(len(names))])
    ax.set_xticklabels(names, rotation=20, ha="right")
    ax.set_ylabel("requests per second (log)")
    accept = doc["acceptance"]
    commit = doc["commit"]
    label = commit["id"] if isinstance(commit, dict) else commit
    ax.set_ylim(top=ax.get_ylim()[1] * 4)  # room for the p99 labels
    ax.set_title(
        f"Through make stack's nginx ({doc['apps']} app servers, {label}, wrk -c32): "
        f"global list {accept['global_list_edge_over_app_cache']}x with the edge cache"
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "bench-edge.png", dpi=110)
    print(f"wrote {out / 'bench-edge.png'}")


if __name__ == "__main__":
    main(sys.argv[1])
