"""A home hub's link (contract 1.1): when it is down no data comes from the home, which is not "no movement".

The hub's last will or its missed heartbeats take it offline; after the offline grace that is one alert
for the home ("the home hub is offline since 14:02; 12 devices behind it"), not one per device (the
heartbeat check leaves the devices behind an offline hub as they were: devices/queries.py), and while
it lasts the rules that silence can break (inactivity, not up, too long in the bathroom) are not judged.
"""

from __future__ import annotations

from anomaly.clock import LocalClock, duration
from anomaly.config import DetectorConfig
from anomaly.model import Action, Clear, Device, HealthChange, Raise, signal
from anomaly.state import HomeState

HUB_TYPE = "hub"
KEY = "hub_offline:"


def is_hub_link(dev: Device | None, ev: HealthChange) -> bool:
    """Whether a health event is a hub's going offline or coming back (handled here, not per device)."""
    return dev is not None and dev.type == HUB_TYPE and ev.kind in ("offline", "online")


def link_down(st: HomeState) -> bool:
    """No data can come from the home: a hub of it is offline."""
    return bool(st.hubs_down)


def on_health(st: HomeState, ev: HealthChange, clock: LocalClock, now: float) -> list[Action]:
    """The hub went offline (wait for the grace period, see check) or came back (clear its alert)."""
    hub = str(ev.device_id)
    key = KEY + hub
    if ev.kind == "offline":
        st.hubs_down.setdefault(hub, ev.at)
        return []
    since = st.hubs_down.pop(hub, None)
    if st.open.pop(key, None) is None:
        return []
    gone = f" after {duration(ev.at - since)}" if since is not None else ""
    note = f"the home hub is back online at {clock.hhmm(ev.at)}{gone}"
    return [Clear(st.home_id, key, "hub_offline", now, note)]


def check(
    st: HomeState, devices: dict[str, Device], cfg: DetectorConfig, clock: LocalClock, now: float
) -> list[Action]:
    """One alert per hub offline longer than the grace period, naming how many devices it carries."""
    out: list[Action] = []
    behind = sum(1 for d in devices.values() if d.type != HUB_TYPE)
    for hub, since in st.hubs_down.items():
        key = KEY + hub
        if now - since < cfg.offline_grace_s or key in st.open:
            continue
        st.open[key] = now
        dev = devices.get(hub)
        word = "device" if behind == 1 else "devices"
        text = (
            f"The home hub is offline since {clock.hhmm(since)} ({duration(now - since)}); {behind} {word}"
            " behind it. Nothing from this home reaches the service, alarms included, until it is back:"
            " check the hub's power and broadband, or call the resident."
        )
        sig = signal(
            st.home_id,
            "hub_offline",
            "high",
            key,
            since + cfg.offline_grace_s,
            "Home hub offline",
            text,
            [{"device": "home hub", "since": clock.hhmm(since), "devices_behind": behind}],
            device_id=dev.device_id if dev else None,
        )
        out.append(Raise(sig, now))
    return out
