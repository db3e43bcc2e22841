"""A small, bounded HTTP load generator (standard library only).

    python bench/loadgen.py URL [--requests 200] [--concurrency 8] [--cookie C]

    python bench/loadgen.py heartbeat|mixed URL --learners FILE [...]

Used by smoke.sh where wrk may be missing. Sends exactly ``--requests``
requests from ``--concurrency`` threads (keep-alive), prints one JSON line and
exits 1 if any request failed or answered 5xx/4xx (but ``--ok-status``).
Loopback URLs only.
"""

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--cookie", default="")
    parser.add_argument(
        "--ok-status",
        type=int,
        action="append",
        default=[],
        help="a 4xx status that is not a failure (e.g. 429 from a rate limit)",
    )
    args = parser.parse_args()
    parts = urlsplit(args.url)
    if parts.hostname not in LOOPBACK:
        parser.error("only loopback URLs are allowed")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"X-Forwarded-Proto": "https", "Accept-Language": "zh-hans"}
    if args.cookie and args.cookie != "-":
        headers["Cookie"] = args.cookie

    local = threading.local()
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []

    def one(_index: int) -> None:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection(
                parts.hostname, parts.port or 80, timeout=30
            )
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as error:
            local.connection = None
            with lock:
                failures.append(type(error).__name__)
            return
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            latencies.append(elapsed)
            if status >= 400 and status not in args.ok_status:
                failures.append(f"HTTP {status}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        list(pool.map(one, range(args.requests)))
    seconds = time.perf_counter() - started
    latencies.sort()

    def percentile(fraction: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(len(latencies) * fraction))]

    print(
        json.dumps(
            {
                "url": args.url,
                "requests": args.requests,
                "rps": round(args.requests / seconds, 1),
                "p50_ms": round(statistics.median(latencies), 1) if latencies else 0,
                "p95_ms": round(percentile(0.95), 1),
                "errors": len(failures),
                "first_errors": failures[:3],
            }
        )
    )
    return 1 if failures else 0


# --- asyncio scenarios: heartbeat writes and the mixed learner load -----------------


class AsyncClient:
    """One keep-alive HTTP/1.1 connection per simulated user (stdlib asyncio)."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        reused = self.writer is not None
        try:
            return await asyncio.wait_for(
                self._request(method, path, headers, body), self.timeout
            )
        except (OSError, asyncio.IncompleteReadError, ConnectionError, ValueError):
            await self.close()
            if not reused:
                raise
        # The server closed an idle keep-alive connection: reconnect once.
        return await asyncio.wait_for(
            self._request(method, path, headers, body), self.timeout
        )

    async def _request(self, method, path, headers, body) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port
            )
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        response_headers = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                response_headers[name.strip().lower()] = value.strip()
        if "content-length" in response_headers:
            data = await self.reader.readexactly(
                int(response_headers["content-length"])
            )
        elif response_headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunks.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            data = b"".join(chunk[:-2] for chunk in chunks)
        else:
            data = await self.reader.read()
            response_headers["connection"] = "close"
        if response_headers.get("connection", "").lower() == "close":
            await self.close()
        return status, data


class Recorder:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.first_errors: list[str] = []
        self.accepted_seconds = 0

    async def call(self, client, kind, method, path, headers, body=b"", ok=(200, 302)):
        started = time.perf_counter()
        try:
            status, data = await client.request(method, path, headers, body)
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
            status, data = 0, type(error).__name__.encode()
        elapsed = (time.perf_counter() - started) * 1000
        self.latencies.setdefault(kind, []).append(elapsed)
        if status not in ok:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            if len(self.first_errors) < 5:
                self.first_errors.append(f"{kind} {path}: {status} {data[:120]!r}")
        return status, data

    def accepted(self, answer: bytes, kind: str) -> bool:
        """A heartbeat answer ``{"ok": true}``; anything else is an error."""
        try:
            ok = bool(json.loads(answer).get("ok"))
        except (ValueError, AttributeError):
            ok = False
        if not ok:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            if len(self.first_errors) < 5:
                self.first_errors.append(f"{kind}: 200 but {answer[:120]!r}")
        return ok

    def summary(self, seconds: float) -> dict:
        def stats(values: list[float]) -> dict:
            values = sorted(values)
            if not values:
                return {"requests": 0}

            def pct(fraction: float) -> float:
                return round(
                    values[min(len(values) - 1, int(len(values) * fraction))], 1
                )

            return {
                "requests": len(values),
                "rps": round(len(values) / seconds, 1),
                "p50_ms": pct(0.50),
                "p95_ms": pct(0.95),
                "p99_ms": pct(0.99),
                "max_ms": round(values[-1], 1),
            }

        every = [value for values in self.latencies.values() for value in values]
        return {
            "seconds": round(seconds, 1),
            "all": stats(every),
            "by_kind": {kind: stats(values) for kind, values in self.latencies.items()},
            "errors": sum(self.errors.values()),
            "errors_by_kind": self.errors,
            "first_errors": self.first_errors,
            "accepted_seconds": self.accepted_seconds,
            "load_average": os.getloadavg(),
        }


def learner_headers(learner: dict, host: str, port: int) -> dict[str, str]:
    return {
        "X-Forwarded-Proto": "https",
        "Accept-Language": "zh-hans",
        "Cookie": learner["cookie"],
    }


def post_headers(learner: dict, host: str, port: int, content_type: str) -> dict:
    return learner_headers(learner, host, port) | {
        "X-CSRFToken": learner["csrf"],
        "Origin": f"https://{host}:{port}",
        "Referer": f"https://{host}:{port}/",
        "Content-Type": content_type,
    }


async def heartbeat_scenario(args, data, host, port) -> dict:
    """Closed loop: ``--concurrency`` connections POST heartbeats (delta 1 s)
    round-robin over every opened lesson of every learner, for ``--duration``."""
    pairs = [
        (learner, lesson)
        for learner in data["learners"]
        for lesson in learner["lessons"]
    ]
    recorder = Recorder()
    body = json.dumps({"delta": 1}).encode()
    deadline = time.perf_counter() + args.duration
    counter = iter(range(10**9))

    async def worker() -> None:
        client = AsyncClient(host, port)
        while time.perf_counter() < deadline:
            learner, lesson = pairs[next(counter) % len(pairs)]
            headers = post_headers(learner, host, port, "application/json")
            status, answer = await recorder.call(
                client, "heartbeat", "POST", lesson["heartbeat"], headers, body, (200,)
            )
            if status == 200 and recorder.accepted(answer, "heartbeat"):
                recorder.accepted_seconds += 1
        await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    return recorder.summary(time.perf_counter() - started)


async def mixed_scenario(args, data, host, port) -> dict:
    """Open loop with think time: every simulated learner repeats a visit —
    dashboard, course page, a lesson read for 1-4 heartbeat intervals (a
    heartbeat every ``--interval`` s), sometimes the next lesson, sometimes the
    quiz endpoint or the catalogue — with 3-15 s of think time between pages."""
    recorder = Recorder()
    rng = random.Random(7)
    deadline = time.perf_counter() + args.duration
    learners = data["learners"][: args.users]

    async def pause(seconds: float) -> bool:
        remaining = deadline - time.perf_counter()
        await asyncio.sleep(max(0.0, min(seconds, remaining)))
        return time.perf_counter() < deadline

    async def user(index: int, learner: dict) -> None:
        client = AsyncClient(host, port)
        get = learner_headers(learner, host, port)
        # Ramp up: users arrive over the first ``--ramp`` seconds.
        if not await pause(args.ramp * index / max(1, len(learners))):
            return await client.close()
        while True:
            await recorder.call(client, "dashboard", "GET", data["dashboard"], get)
            if not await pause(rng.uniform(3, 15)):
                break
            if rng.random() < 0.3:
                await recorder.call(client, "browse", "GET", data["catalogue"], get)
                if not await pause(rng.uniform(3, 15)):
                    break
            await recorder.call(client, "browse", "GET", learner["course"], get)
            if not await pause(rng.uniform(3, 15)):
                break
            for _lesson_visit in range(rng.randint(1, 3)):
                lesson = rng.choice(learner["lessons"])
                await recorder.call(client, "lesson", "GET", lesson["url"], get)
                for _beat in range(rng.randint(1, 4)):
                    if not await pause(args.interval):
                        return await client.close()
                    headers = post_headers(learner, host, port, "application/json")
                    body = json.dumps({"delta": args.interval}).encode()
                    status, answer = await recorder.call(
                        client,
                        "heartbeat",
                        "POST",
                        lesson["heartbeat"],
                        headers,
                        body,
                        (200,),
                    )
                    if status == 200 and recorder.accepted(answer, "heartbeat"):
                        recorder.accepted_seconds += args.interval
                if rng.random() < 0.2:
                    headers = post_headers(
                        learner, host, port, "application/x-www-form-urlencoded"
                    )
                    await recorder.call(
                        client, "quiz", "POST", lesson["quiz"], headers, b"x=1"
                    )
                if not await pause(rng.uniform(3, 15)):
                    return await client.close()
        await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(user(i, learner) for i, learner in enumerate(learners)))
    return recorder.summary(time.perf_counter() - started)


def scenario_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="loadgen.py heartbeat|mixed")
    parser.add_argument("scenario", choices=["heartbeat", "mixed"])
    parser.add_argument("base_url")
    parser.add_argument("--learners", required=True, help="bench/learners.py output")
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--ramp", type=float, default=30)
    parser.add_argument("--interval", type=int, default=15)
    parser.add_argument("--json", help="also write the summary here")
    args = parser.parse_args(argv)
    parts = urlsplit(args.base_url)
    if parts.hostname not in LOOPBACK:
        parser.error("only loopback URLs are allowed")
    with open(args.learners) as handle:
        data = json.load(handle)
    scenario = heartbeat_scenario if args.scenario == "heartbeat" else mixed_scenario
    summary = asyncio.run(scenario(args, data, parts.hostname, parts.port or 80))
    summary["scenario"] = args.scenario
    summary["users"] = (
        min(args.users, len(data["learners"]))
        if args.scenario == "mixed"
        else args.concurrency
    )
    text = json.dumps(summary)
    print(text)
    if args.json:
        with open(args.json, "w") as handle:
            handle.write(text)
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("heartbeat", "mixed"):
        sys.exit(scenario_main(sys.argv[1:]))
    sys.exit(main())
