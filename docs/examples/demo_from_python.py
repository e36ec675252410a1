"""The demo leaderboard from Python: run the demo study through the Python API, print its board
as a pandas DataFrame and draw a plot of it. Finished runs in the store are reused, so after
`alexbench demo` this takes seconds.

    python docs/examples/demo_from_python.py --results results --plot demo.png
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")  # no screen needed: the plot goes to a file
import matplotlib.pyplot as plt  # noqa: E402

from alexbench.api import Bench, RunEvent  # noqa: E402


def show(event: RunEvent) -> None:
    """One line per run as the grid goes (the API's progress callback)."""
    score = "failed: " + (event.error or "") if not event.ok else f"{event.metric} = {event.official:.3f}"
    print(f"[{event.done}/{event.total}] {event.state:6} {event.task} · {event.variant} · seed {event.seed}: {score}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="the results store (default: results)")
    parser.add_argument("--plot", default="demo.png", help="where to write the plot (PNG)")
    args = parser.parse_args()

    bench = Bench(results=args.results)
    study = bench.grid("demo", show_progress=False, on_event=show)   # runs, or reuses, every run
    board = study.leaderboards.to_pandas()                            # one row per task × variant
    print(board[["task", "variant", "official_metric", "test_mean", "test_std", "delta", "p_bootstrap_holm"]]
          .to_string(index=False, float_format=lambda x: f"{x:.3f}"))

    runs = bench.runs("demo").to_pandas()                              # one row per stored run
    print(f"{len(runs)} stored runs of the demo task, {runs['variant'].nunique()} variants")

    ranked = board.sort_values("test_mean")
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(ranked) + 1))
    ax.barh(ranked["variant"], ranked["test_mean"], xerr=ranked["test_std"], color="#4c72b0")
    ax.set_xlabel(f"test {ranked['official_metric'].iloc[0]} (mean ± std over seeds)")
    ax.set_title("alexbench demo")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=100)
    print(f"plot written to {args.plot}")
    if not study.ok:
        raise SystemExit(f"{study.failures} run(s) failed; errors are in {study.failed_dir}")


if __name__ == "__main__":
    main()
