"""bench/results.py: the Python side of bench/lib.sh's bench_result.

record(figure, value, unit, baseline_label, baseline_value, target) appends one
TSV row to $BENCH_RESULTS (set by bench/run-all.sh) and does nothing when it is
unset. TARGET is an awk condition over `value` and `ratio` (ratio = value /
baseline_value), e.g. "ratio >= 0.3" or "value <= 20"; "-" reports only.
"""
import os
import sys


def record(figure, value, unit, baseline_label="-", baseline_value="-", target="-"):
    path = os.environ.get("BENCH_RESULTS")
    if not path:
        return
    script = os.path.basename(sys.argv[0]).replace(".py", ".sh")
    fields = [script, figure, f"{value:.6g}" if isinstance(value, float) else str(value), unit,
              baseline_label, f"{baseline_value:.6g}" if isinstance(baseline_value, float) else str(baseline_value),
              target]
    if any("\t" in f or "\n" in f for f in fields):
        raise ValueError(f"bench result field with a tab or newline: {fields}")
    with open(path, "a", encoding="utf-8") as f:
        f.write("\t".join(fields) + "\n")
