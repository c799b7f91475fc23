"""Garbage-collector tuning for a long-running service process, applied once it has started."""

from __future__ import annotations

import gc


def settle(*, young_threshold: int | None = None) -> None:
    """Exempt what was built at start from the cyclic collector; optionally collect young objects less often.

    Profiled (issues 4 and 6): full collections walking the long-lived objects (modules, the app, the
    device registry) stalled every thread for 50-65 ms in ingest and took a quarter of an API request's
    CPU. Process-wide, so only entry points call it, never a library object.
    """
    gc.collect()
    gc.freeze()
    if young_threshold is not None:
        gc.set_threshold(young_threshold)
