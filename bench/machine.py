"""The machine's speed, printed beside every figure so runs on different machines compare.

Why: issue 20 re-ran the benches on a machine of the same kind that ran Python ~2.5× slower;
ratios moved less than absolute figures, but "5 ms of CPU per turn" only means something next
to how fast this machine runs plain Python. `python_speed_ms` times a fixed pure-Python loop
(no I/O, no allocation beyond ints) in the same run: divide a CPU figure by it to compare.
"""

from __future__ import annotations

import os
import statistics
import time

# The loop: 1 000 000 multiply-adds through a generator — about 50 ms on the machine
# BENCHMARKS.md was first measured on.
LOOP = 1_000_000


def python_speed_ms(repeat: int = 5) -> float:
    """The median wall time of the fixed loop, in ms (the best of noisy runs is too kind)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        sum(i * i for i in range(LOOP))
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def speed_line() -> str:
    """One line: the loop's time, the cores and the load when measured."""
    load = os.getloadavg()
    return (
        f"machine: fixed Python loop ({LOOP:,} multiply-adds) {python_speed_ms():.1f} ms; "
        f"nproc {os.cpu_count()}; load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


if __name__ == "__main__":
    print(speed_line())
