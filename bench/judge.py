"""Judge one bench run against the targets of issue 7; prints Markdown.

Used by run.sh; the inputs are wrk JSON lines (bench/report.lua) and the JSON
files written by bench/loadgen.py and bench/learners.py verify.
"""

import argparse
import json
from pathlib import Path

LESSON_P95_MS = 100
LESSON_SHARE_OF_BASELINE = 0.60
HEARTBEAT_RPS = 800
HEARTBEAT_P99_MS = 150
MIXED_P95_MS = 200
MIXED_USERS = 1000
MIXED_SECONDS = 300


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--healthz", required=True)
    parser.add_argument("--lesson", required=True)
    parser.add_argument("--heartbeat", required=True)
    parser.add_argument("--verify", required=True)
    parser.add_argument("--mixed", required=True)
    parser.add_argument("--loads", nargs=6, required=True)
    args = parser.parse_args()
    healthz, lesson = json.loads(args.healthz), json.loads(args.lesson)
    heartbeat = json.loads(Path(args.heartbeat).read_text())
    verify = json.loads(Path(args.verify).read_text() or "{}")
    mixed = json.loads(Path(args.mixed).read_text())
    loads = args.loads

    print()
    print("## Issue 7 targets")
    print()
    print("| benchmark | req/s | p50 ms | p95 ms | p99 ms | errors | load avg |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, r, load in (
        ("/healthz (baseline), 16 conn.", healthz, loads[0]),
        ("lesson page, learner, 16 conn.", lesson, loads[1]),
    ):
        errors = r["non_2xx_3xx"] + r["socket_errors"]
        print(
            f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} "
            f"| {r['p99_ms']:.0f} | {errors} | {load} |"
        )
    for name, r, load in (
        (f"heartbeat, {heartbeat['users']} conn.", heartbeat, loads[3]),
        (f"mixed, {mixed['users']} learners", mixed, loads[5]),
    ):
        a = r["all"]
        print(
            f"| {name} | {a.get('rps', 0):.0f} | {a.get('p50_ms', 0):.0f} "
            f"| {a.get('p95_ms', 0):.0f} | {a.get('p99_ms', 0):.0f} | {r['errors']} "
            f"| {load} |"
        )
    share = lesson["rps"] / healthz["rps"] if healthz["rps"] else 0
    lesson_errors = lesson["non_2xx_3xx"] + lesson["socket_errors"]
    hb = heartbeat["all"]
    lost = verify.get("lost_seconds")
    mixed_all = mixed["all"]
    print()
    print("| target | measured | verdict |")
    print("|---|---|---|")
    print(
        f"| lesson page p95 < {LESSON_P95_MS} ms | {lesson['p95_ms']:.0f} ms "
        f"| {verdict(lesson['p95_ms'] < LESSON_P95_MS and not lesson_errors)} |"
    )
    print(
        f"| lesson page ≥ {LESSON_SHARE_OF_BASELINE:.0%} of /healthz req/s "
        f"| {share:.1%} ({lesson['rps']:.1f} / {healthz['rps']:.0f}) "
        f"| {verdict(share >= LESSON_SHARE_OF_BASELINE)} |"
    )
    print(
        f"| heartbeat ≥ {HEARTBEAT_RPS} writes/s | {hb.get('rps', 0):.0f} "
        f"({heartbeat['accepted_seconds']} accepted) "
        f"| {verdict(hb.get('rps', 0) >= HEARTBEAT_RPS and not heartbeat['errors'])} |"
    )
    print(
        f"| heartbeat p99 < {HEARTBEAT_P99_MS} ms | {hb.get('p99_ms', 0):.0f} ms "
        f"| {verdict(hb.get('p99_ms', 1e9) < HEARTBEAT_P99_MS)} |"
    )
    print(
        f"| heartbeat: zero lost updates | {lost} s lost "
        f"({verify.get('accepted_seconds')} accepted, database "
        f"{verify.get('active_seconds_before')} → {verify.get('active_seconds_after')})"
        f" | {verdict(lost == 0)} |"
    )
    long_enough = mixed["users"] >= MIXED_USERS and mixed["seconds"] >= MIXED_SECONDS
    print(
        f"| mixed: {MIXED_USERS} learners, {MIXED_SECONDS} s, p95 < {MIXED_P95_MS} ms "
        f"| {mixed['users']} learners, {mixed['seconds']:.0f} s, "
        f"p95 {mixed_all.get('p95_ms', 0):.0f} ms "
        f"| {verdict(long_enough and mixed_all.get('p95_ms', 1e9) < MIXED_P95_MS)} |"
    )
    print(
        f"| mixed: zero errors | {mixed['errors']} {mixed['errors_by_kind']} "
        f"| {verdict(mixed['errors'] == 0)}"
        f"{'' if long_enough else ' (shorter/smaller run than the target)'} |"
    )
    print()
    print("Mixed load by request kind:")
    print()
    print("| kind | requests | req/s | p50 ms | p95 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind, r in sorted(mixed["by_kind"].items()):
        print(
            f"| {kind} | {r['requests']} | {r.get('rps', 0):.1f} "
            f"| {r.get('p50_ms', 0):.0f} | {r.get('p95_ms', 0):.0f} "
            f"| {r.get('p99_ms', 0):.0f} |"
        )
    if mixed["first_errors"]:
        print()
        print("First errors: " + "; ".join(mixed["first_errors"]))


if __name__ == "__main__":
    main()
