"""Profile one page in process against the bench database (cProfile).

    python bench/profile.py PATH [--cookie NAME=VALUE] [--post JSON --csrf TOKEN]

Run with the bench environment (see run.sh). Prints the server time of five
warm requests, the queries of one (most repeated first) and the top functions
by cumulative time of one more. Use with the cookies from ``bench/targets.py``
or ``bench/learners.py`` (heartbeat: ``--post '{"delta": 1}' --csrf TOKEN``).
"""

import argparse
import cProfile
import os
import pstats
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings.production")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--cookie", default="", help="'a=b; c=d' as sent by a browser")
    parser.add_argument("--post", help="JSON body: POST instead of GET")
    parser.add_argument("--csrf", default="")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    client = Client(HTTP_X_FORWARDED_PROTO="https", enforce_csrf_checks=True)
    for part in filter(None, (p.strip() for p in args.cookie.split(";"))):
        name, value = part.split("=", 1)
        client.cookies[name] = value

    def request():
        if args.post is None:
            return client.get(args.path, secure=True)
        return client.post(
            args.path,
            data=args.post.encode(),
            content_type="application/json",
            secure=True,
            HTTP_X_CSRFTOKEN=args.csrf,
            HTTP_ORIGIN="https://testserver",
        )

    print("status", request().status_code)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        request()
        times.append(round((time.perf_counter() - started) * 1000, 1))
    print("ms", sorted(times), "load average", os.getloadavg())
    with CaptureQueriesContext(connection) as queries:
        request()
    print("queries", len(queries.captured_queries))
    for sql, count in Counter(
        q["sql"][:100] for q in queries.captured_queries
    ).most_common(10):
        print(f"  {count:3d} × {sql}")
    profile = cProfile.Profile()
    profile.enable()
    request()
    profile.disable()
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
