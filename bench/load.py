"""Open-loop HTTP load at a fixed offered rate, in its own process (python -m bench.load).

Request i is due at start + i/rate and is sent then whatever earlier ones are doing; its
latency runs from that due time to the reply, so a stalled server shows in the percentiles
(no coordinated omission). Prints one JSON object: offered and achieved rate, statuses and
latency percentiles in milliseconds.

    python -m bench.load URL BODIES_FILE RATE SECONDS
BODIES_FILE holds one request body per line (JSON strings), used round-robin; each
request's EVENT_ID is replaced by a new UUID, so every query is a new access.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import uvloop

EVENT_ID = b"EVENT_ID"
EFFECTIVE_TIME = b"EFFECTIVE_TIME"
HEADERS = {"Content-Type": "text/xml"}


def percentile(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return float("nan")
    return sorted_ms[min(len(sorted_ms) - 1, int(p / 100 * len(sorted_ms)))]


async def one(client: aiohttp.ClientSession, url: str, body: bytes, due: float,
              latencies: list[float], statuses: Counter[int]) -> None:
    delay = due - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)
    try:
        now = datetime.now(UTC).strftime("%Y%m%d%H%M%S+0000").encode()
        content = body.replace(EVENT_ID, str(uuid.uuid4()).upper().encode()).replace(
            EFFECTIVE_TIME, now)
        async with client.post(url, data=content, headers=HEADERS) as reply:
            await reply.read()
            statuses[reply.status] += 1
    except (aiohttp.ClientError, TimeoutError):
        statuses[0] += 1
    latencies.append((time.perf_counter() - due) * 1000)


async def offered(url: str, bodies: list[bytes], rate: float, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    count = int(rate * seconds)
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=30)) as client:
        start = time.perf_counter() + 0.2
        tasks = [asyncio.create_task(one(client, url, bodies[i % len(bodies)], start + i / rate,
                                         latencies, statuses)) for i in range(count)]
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"load_generator_cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": elapsed,
            "offered_per_s": rate, "achieved_per_s": count / elapsed, "requests": count,
            "statuses": {str(k): v for k, v in statuses.items()},
            "p50_ms": percentile(ordered, 50), "p99_ms": percentile(ordered, 99),
            "max_ms": ordered[-1] if ordered else float("nan")}


def main() -> None:
    url, bodies_file, rate, seconds = sys.argv[1:5]
    bodies = [json.loads(line).encode() for line in Path(bodies_file).read_text().splitlines()]
    # uvloop: the generator shares the two cores with the server, so it should use little
    print(json.dumps(uvloop.run(offered(url, bodies, float(rate), float(seconds)))))


if __name__ == "__main__":
    main()
