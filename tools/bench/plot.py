"""Plot `make bench` results for docs/performance.md.

    .venv/bin/python tools/bench/plot.py bench/results/A-10k.json bench/results/A-1m.json

Writes docs/img/bench-requests.png (req/s per scenario and dataset size, with the bare-Django
reference as a line) and docs/img/bench-p99.png (p99 latency per scenario against dataset size).
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

OUT = Path(__file__).resolve().parents[2] / "docs" / "img"


def main(paths: list[str], out: Path = OUT) -> None:
    runs = [json.loads(Path(p).read_text()) for p in paths]
    runs.sort(key=lambda r: r["size"]["articles"])
    # The scenarios every run has (BENCH_SCENARIOS may have chosen a subset).
    scenarios = [s for s in runs[0]["scenarios"] if all(s in run["scenarios"] for run in runs)]
    out.mkdir(parents=True, exist_ok=True)

    fig, ax = plt.subplots(figsize=(11, 5))
    width = 0.8 / len(runs)
    for i, run in enumerate(runs):
        values = [run["scenarios"][s]["requests_per_s"] for s in scenarios]
        xs = [x + i * width for x in range(len(scenarios))]
        ax.bar(xs, values, width, label=f"{run['size']['articles']:,} articles")
        bare = run["references"].get("bare_django")  # None: not run (BENCH_SCENARIOS)
        if bare:
            ax.axhline(bare["requests_per_s"] * 0.1, linestyle=":", linewidth=1, color=f"C{i}")
    ax.set_xticks([x + width * (len(runs) - 1) / 2 for x in range(len(scenarios))])
    ax.set_xticklabels(scenarios, rotation=30, ha="right")
    ax.set_ylabel("requests per second")
    ax.set_title(
        "Conduit under wrk -c32 (granian 2 workers x 4 threads, 2 cores); "
        "dotted: 10% of bare Django"
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "bench-requests.png", dpi=110)

    fig, ax = plt.subplots(figsize=(10, 5))
    sizes = [run["size"]["articles"] for run in runs]
    markers = "osD^v<>ph*X"
    for i, s in enumerate(scenarios):
        ax.plot(sizes, [run["scenarios"][s]["latency_ms"]["p99"] for run in runs],
                marker=markers[i % len(markers)], color=plt.cm.tab20(i), label=s)  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("articles in the database")
    ax.set_ylabel("p99 latency (ms)")
    ax.set_title("p99 latency against dataset size")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    fig.savefig(out / "bench-p99.png", dpi=110)
    print(f"wrote {out / 'bench-requests.png'} and {out / 'bench-p99.png'}")


if __name__ == "__main__":
    main(sys.argv[1:])
