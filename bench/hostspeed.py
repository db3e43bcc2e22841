"""How fast this machine runs Python right now: the CPU time of a fixed
workload (dict and string operations, calls, JSON), median of 7 runs.

Timings on a shared virtual machine drift with its neighbours' load, which the
guest cannot see (it reports no steal time): on 2026-12-01 a fixed loop of 10**7
additions took 0.80 s of CPU at 17:25 and 1.07-1.24 s over the following hour on
the same VM, and the certificate render median of that hour (63-75 ms) was far
above the 44 ms measured in the previous session. Benchmarks print this figure
next to theirs, so that runs at different times can be compared (lower is faster;
it depends on the interpreter too):

    python bench/hostspeed.py        # {"hostspeed_ms": 56.3, "python": "3.13.0"}
"""

import json
import platform
import statistics
import time


def workload() -> int:
    counts: dict[str, int] = {}
    for i in range(120_000):
        key = f"k{i % 997}"
        counts[key] = counts.get(key, 0) + len(key)
    rows = [{"id": i, "name": f"名称{i}", "tags": [i, i * 2]} for i in range(3_000)]
    decoded = json.loads(json.dumps(rows, ensure_ascii=False))
    return sum(counts.values()) + len(sorted(decoded, key=lambda row: -row["id"]))


def main() -> None:
    workload()  # warm-up
    samples = []
    for _ in range(7):
        started = time.process_time()
        workload()
        samples.append((time.process_time() - started) * 1000)
    print(json.dumps({
        "hostspeed_ms": round(statistics.median(samples), 1),
        "python": platform.python_version(),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
