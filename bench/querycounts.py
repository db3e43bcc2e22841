"""Count SQL queries per page in the bench database (in-process, no HTTP).

Usage (the bench environment, see run.sh):
    python bench/querycounts.py [--max-growth N] [--json FILE]

For each target of targets.py: status, number of queries, and the median
server time of five requests. Pairs of the same page with few and many rows
(10 vs 5,000 employees, 10 vs 200 lessons) must need the same number of
queries: with ``--max-growth N`` the script exits 1 when the bigger one needs
more than N extra queries.
"""

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import targets as bench_targets  # noqa: E402 - sets up Django
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

# "HR people list, 5,000 employees" / "course page, 200 lessons (anonymous)"
PAIR = re.compile(
    r"^(?P<page>.+?), (?P<rows>[\d,]+) (?P<unit>\w+)(?: \((?P<variant>[^)]*)\))?$"
)


def measure(name: str, path: str, cookie: str | None) -> dict:
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="zh-hans")
    if cookie:
        key, value = cookie.split("=", 1)
        client.cookies[key] = value
    timings = []
    for attempt in range(6):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, secure=True)
        if attempt:  # the first request warms caches
            timings.append((time.perf_counter() - started) * 1000)
    return {
        "name": name,
        "path": path,
        "status": response.status_code,
        "queries": len(queries.captured_queries),
        "median_ms": round(statistics.median(timings), 1),
    }


def growth_problems(rows: list[dict], max_growth: int) -> list[str]:
    groups: dict[tuple[str, str, str], list[tuple[int, dict]]] = {}
    for row in rows:
        match = PAIR.match(row["name"])
        if not match:
            continue
        key = (match["page"], match["unit"], match["variant"] or "")
        groups.setdefault(key, []).append((int(match["rows"].replace(",", "")), row))
    problems = []
    for (page, unit, variant), members in groups.items():
        if len(members) < 2:
            continue
        members.sort(key=lambda item: item[0])
        (few, small), (many, big) = members[0], members[-1]
        if big["queries"] - small["queries"] > max_growth:
            problems.append(
                f"{page} {variant}: {small['queries']} queries with {few} {unit}, "
                f"{big['queries']} with {many} {unit}"
            )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-growth", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    rows = [measure(*target) for target in bench_targets.targets()]
    print("| page | status | queries | median server time (ms) |")
    print("|---|---:|---:|---:|")
    for row in rows:
        cells = [row["name"], row["status"], row["queries"], row["median_ms"]]
        print("| " + " | ".join(str(cell) for cell in cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    if args.max_growth is not None:
        problems = growth_problems(rows, args.max_growth)
        for problem in problems:
            print(f"QUERY GROWTH: {problem}", file=sys.stderr)
        bad_status = [row for row in rows if row["status"] >= 500]
        for row in bad_status:
            print(f"SERVER ERROR: {row['name']} {row['path']}", file=sys.stderr)
        return 1 if problems or bad_status else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
