"""Each home's own clock for judging silence: the wall clock, held back while its readings arrive late.

A home hub whose broadband returns flushes hours of buffered readings. Judged by the wall clock, such a
backlog looks like a resident who went into the bathroom at 23:13 and never came out, when the readings
that say otherwise are simply still on their way. Judged by the home's own clock (how far its readings
have got, plus the time since they arrived) it is an ordinary night still being told.

The lag is measured per device and the smallest recent one counts, so one late reading does not hold
back a home whose other devices are live; a device whose clock runs slow is recognised while the rest
of the home is live, and its offset is taken off its later readings.
"""

from __future__ import annotations

from anomaly.config import DetectorConfig
from anomaly.model import Reading
from anomaly.state import HomeState


def observe(st: HomeState, r: Reading, now: float, cfg: DetectorConfig) -> None:
    """Measure how late one arriving reading (of any kind) is, and update the home's lag."""
    # A clock that is not trusted, or that runs ahead, says nothing about a backlog.
    raw = 0.0 if r.clock_suspect else min(max(r.received - r.at, 0.0), cfg.lag_max_s)
    dev = str(r.device_id)
    entry = st.links.get(dev)
    skew = entry[2] if entry is not None else 0.0
    if raw <= cfg.lag_floor_s:
        skew = 0.0
    elif st.live_dev != dev and now - st.live_at <= cfg.lag_window_s:
        # Behind while another device of this home is live: a slow clock (or a buffer of its own).
        # Remembered, so that it does not hold the home back later when it is the only one heard.
        skew = raw
    lag = raw - skew
    if lag <= cfg.lag_floor_s:
        lag = 0.0
    if entry is None:
        st.links[dev] = [now, lag, skew]
    else:
        entry[0], entry[1], entry[2] = now, lag, skew
    if lag == 0.0:
        st.live_at, st.live_dev = now, dev
        st.lag = 0.0
    elif now - st.live_at <= cfg.lag_window_s:
        st.lag = 0.0
    else:
        # A backlog: readings arrive roughly in event order, the smallest lag is how far it has got.
        st.lag = min(e[1] for e in st.links.values() if now - e[0] <= cfg.lag_window_s)


def home_time(st: HomeState, now: float) -> float:
    """The home's clock: the wall clock, less the lag its readings last arrived with (held in silence)."""
    return now - st.lag
