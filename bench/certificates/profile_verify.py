"""CPU per request of the verify page (/v/<code>), in process (no HTTP).

Run with the environment of bench_verify.sh (its database must exist), e.g.
``ROOT=$(pwd); source bench/certificates/env.sh`` from the repository root:

    python bench/certificates/profile_verify.py [--requests 200] [--profile 40]

Goes through the whole WSGI handler (every middleware, the view, the
template) with Django's test client, cycling over the issued certificates.
Prints the median ``time.process_time()`` per request (CPU of this process,
so PostgreSQL's and Redis's share is not included), the median wall time and
the queries of one request; ``--profile N`` adds the N top entries of a
cProfile of 50 more requests, sorted by internal time.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

# bench/profile.py would shadow the standard library's profile module.
_BENCH = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH]
import cProfile  # noqa: E402
import pstats  # noqa: E402

sys.path.insert(0, str(_BENCH.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", type=int, default=0)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from certificates.models import Certificate

    paths = [f"/v/{c}" for c in Certificate.objects.values_list("code", flat=True)]
    if not paths:
        sys.exit("no certificates: run bench/certificates/bench_verify.sh once")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans", raise_request_exception=True)

    def request(index):
        response = client.get(paths[index % len(paths)], secure=True)
        assert response.status_code == 200, response.status_code
        return response

    for index in range(20):  # warm-up: templates, translations, connections
        request(index)
    cpu, wall = [], []
    for index in range(args.requests):
        started_cpu, started = time.process_time(), time.perf_counter()
        request(index)
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = request(0)
    print(
        f"verify page: {statistics.median(cpu):.2f} ms CPU, "
        f"{statistics.median(wall):.2f} ms wall (medians of {args.requests}), "
        f"{len(queries.captured_queries)} queries, {len(response.content)} bytes"
    )
    for query in queries.captured_queries:
        print("  ", query["sql"][:160])
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for index in range(50):
            request(index)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
