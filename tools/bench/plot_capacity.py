"""Plot `make bench-capacity`'s results and print their knees as a Markdown table.

    .venv/bin/python tools/bench/plot_capacity.py bench/results/<commit>-capacity-{1,2,4}apps.json

Writes docs/img/bench-capacity.png (``--out`` elsewhere): per scenario, p99 (solid) and p50
(dashed) latency against the offered rate, one colour per app-server count, the 100 ms bound
as a grey line, each knee as a dot.
"""

import argparse
import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter

OUT = Path(__file__).resolve().parents[2] / "docs" / "img" / "bench-capacity.png"


def table(runs: list[dict[str, Any]]) -> str:
    """Knee (req/s) per scenario and app-server count, with the cores the rest of the machine
    used during that step in brackets, and the CPU ms per request at the knee."""
    names = list(dict.fromkeys(n for run in runs for n in run["scenarios"]))
    apps = [run["apps"] for run in runs]
    lines = ["| scenario | " + " | ".join(f"knee, {a} app{'s' * (a > 1)}" for a in apps)
             + " | CPU ms/request at the knee: app / PostgreSQL / Redis / nginx |",
             "|---|" + "---:|" * len(apps) + "---|"]  # fmt: skip
    for name in names:
        knees, cpus = [], []
        for run in runs:
            s = run["scenarios"].get(name)
            knee = s and s["knee_rps"]
            other = s and s.get("other_cores_at_knee")
            # The knee, and in brackets the cores the rest of the machine used meanwhile.
            knees.append((f"{knee:.0f}" + (f" ({other:.2f})" if other is not None else ""))
                         if knee else "-")  # fmt: skip
            cpu = s and s["cpu_ms_per_request"]
            cpus.append(" / ".join(f"{cpu[k]:.2f}" for k in ("app", "postgres", "redis", "nginx"))
                        if cpu else "-")  # fmt: skip
        lines.append(f"| `{name}` | " + " | ".join(knees) + " | " + "; ".join(cpus) + " |")
    return "\n".join(lines)


def plot(runs: list[dict[str, Any]], out: Path) -> None:
    names = list(dict.fromkeys(n for run in runs for n in run["scenarios"]))
    cols = min(4, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.3 * rows), squeeze=False)
    bound = runs[0]["method"]["p99_bound_ms"]
    for ax, name in zip(axes.flat, names, strict=False):
        for i, run in enumerate(runs):
            s = run["scenarios"].get(name)
            if not s:
                continue
            x = [step["offered_rps"] for step in s["steps"]]
            colour = f"C{i}"
            ax.plot(x, [st["latency_ms"]["p99"] for st in s["steps"]], "-o", ms=3, color=colour,
                    label=f"{run['apps']} app{'s' * (run['apps'] > 1)} p99")  # fmt: skip
            ax.plot(x, [st["latency_ms"]["p50"] for st in s["steps"]], "--", color=colour,
                    alpha=0.6)  # fmt: skip
            if s["knee_rps"]:
                ax.plot([s["knee_rps"]], [s["knee_p99_ms"]], "o", ms=8, color=colour,
                        mfc="none")  # fmt: skip
        ax.axhline(bound, color="grey", lw=0.8)
        ax.set(title=name, xscale="log", yscale="log", xlabel="offered req/s",
               ylabel="latency ms (p99 —, p50 --)")  # fmt: skip
        ax.xaxis.set_minor_formatter(NullFormatter())  # 2x10^2, 3x10^2... overlap
        ax.grid(True, which="both", alpha=0.2)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    first = runs[0]
    fig.suptitle(f"make bench-capacity at {first['commit']['id']}: open-model steps of "
                 f"{first['method']['step_seconds']:g} s, knee = last step with p99 ≤ {bound:g} ms "
                 "and no error", fontsize=10)  # fmt: skip
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    print(f"wrote {out}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("results", nargs="+", type=Path)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    runs = sorted((json.loads(path.read_text()) for path in args.results), key=lambda r: r["apps"])
    plot(runs, args.out)
    print(table(runs))


if __name__ == "__main__":
    main()
