"""Structured operations events: one JSON line each on ``academy.ops``.

Faults the platform recovers from by itself (a database outage answered with
503, an e-mail that will be retried, a task re-queued after a worker died)
are logged here, so that operators can alert on the ``event`` field.
"""

from __future__ import annotations

import json
import logging

ops_logger = logging.getLogger("academy.ops")


def ops_event(event: str, *, level: int = logging.INFO, **fields) -> dict:
    record: dict[str, object] = {"event": event, **fields}
    ops_logger.log(
        level,
        json.dumps(record, ensure_ascii=False, default=str),
        extra={"ops": record},
    )
    return record
