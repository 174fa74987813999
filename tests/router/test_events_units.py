"""How a router event is applied: changes count, repeats and the baseline do not."""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, cast

from custom_components.upnp_guard.gena import GenaSubscriptions, Subscription
from custom_components.upnp_guard.router.coordinator import RouterCoordinator
from custom_components.upnp_guard.router.events import RouterEvents
from custom_components.upnp_guard.router.models import RouterState, WanStatus


@dataclass
class FakeVariable:
    name: str
    value: Any


@dataclass
class FakeService:
    service_id: str = "urn:upnp-org:serviceId:WANIPConn1"


class FakeEntry:
    def __init__(self) -> None:
        self.tasks: list[str] = []

    def async_create_task(self, _hass: Any, coro: Coroutine[Any, Any, None], name: str) -> None:
        coro.close()
        self.tasks.append(name)


@dataclass
class FakeCoordinator:
    data: RouterState
    config_entry: FakeEntry = field(default_factory=FakeEntry)
    listener_updates: int = 0
    last_update_success: bool = True

    def async_update_listeners(self) -> None:
        self.listener_updates += 1

    async def async_request_refresh(self) -> None:
        return None


def _events(state: RouterState) -> tuple[RouterEvents, FakeCoordinator]:
    coordinator = FakeCoordinator(state)
    events = RouterEvents(cast(Any, None), cast(RouterCoordinator, coordinator), "10.0.0.2")
    return events, coordinator


def _event(events: RouterEvents, **values: Any) -> None:
    service = cast(Any, FakeService())
    events._on_event(service, [cast(Any, FakeVariable(k, v)) for k, v in values.items()])


def test_baseline_event_matching_the_poll_changes_nothing() -> None:
    state = RouterState(wan=WanStatus(connection_status="Connected"))
    events, coordinator = _events(state)
    # miniupnpd events its private WAN address even though the action hides it.
    _event(
        events,
        ConnectionStatus="Connected",
        ExternalIPAddress="172.24.0.2",
        PortMappingNumberOfEntries="0",
    )
    assert coordinator.config_entry.tasks == []
    assert state.wan.external_ip is None
    assert events.event_count == 1


def test_changes_are_applied_and_refresh_requested() -> None:
    state = RouterState(wan=WanStatus(connection_status="Connected", external_ip="203.0.113.1"))
    events, coordinator = _events(state)
    _event(events, ConnectionStatus="Connected", ExternalIPAddress="203.0.113.1")
    _event(events, ConnectionStatus="Disconnected", ExternalIPAddress="203.0.113.9")
    assert state.wan.connection_status == "Disconnected"
    assert state.wan.external_ip == "203.0.113.9"
    assert coordinator.listener_updates == 1
    assert len(coordinator.config_entry.tasks) == 1
    # A repeat is not a change.
    _event(events, ConnectionStatus="Disconnected")
    assert len(coordinator.config_entry.tasks) == 1


def test_mapping_count_differing_from_the_inventory_refreshes() -> None:
    events, coordinator = _events(RouterState())
    _event(events, PortMappingNumberOfEntries="0")
    assert coordinator.config_entry.tasks == []
    _event(events, PortMappingNumberOfEntries="1")
    assert len(coordinator.config_entry.tasks) == 1


def test_junk_count_refreshes_and_later_events_still_apply() -> None:
    state = RouterState(wan=WanStatus(external_ip="203.0.113.1"))
    events, coordinator = _events(state)
    # A router sending garbage gets the inventory checked rather than trusted or crashed.
    _event(events, PortMappingNumberOfEntries="lots")
    assert len(coordinator.config_entry.tasks) == 1
    _event(events, ExternalIPAddress="203.0.113.1")
    _event(events, ExternalIPAddress="203.0.113.2")
    assert state.wan.external_ip == "203.0.113.2"


def test_events_after_stop_are_ignored() -> None:
    events, coordinator = _events(RouterState())
    events._closed = True
    _event(events, PortMappingNumberOfEntries="5")
    assert events.event_count == 0
    assert coordinator.config_entry.tasks == []


def _subscribed() -> tuple[RouterState, RouterEvents, FakeCoordinator, list[float]]:
    """Events holding one subscription, uptime 7200 s, renewals recorded, not run."""
    state = RouterState(wan=WanStatus(uptime=7200))
    events, coordinator = _events(state)
    scheduled: list[float] = []
    events._schedule = scheduled.append  # type: ignore[method-assign]
    events._uptime = 7200
    gena = GenaSubscriptions(cast(Any, None), cast(Any, None))
    gena.active["uuid:sid"] = Subscription("uuid:sid", cast(Any, FakeService()), 0.0)
    events._gena = gena
    return state, events, coordinator, scheduled


def test_router_reboot_seen_by_the_poll_renews_at_once() -> None:
    state, events, _coordinator, scheduled = _subscribed()
    state.wan.uptime = 7230
    events._on_poll()
    assert scheduled == []
    # Uptime went back: the router rebooted and lost our subscriptions.
    state.wan.uptime = 12
    events._on_poll()
    assert scheduled == [0]
    # A router without uptime changes nothing.
    state.wan.uptime = None
    events._on_poll()
    assert scheduled == [0]


def test_a_router_reachable_again_renews_at_once() -> None:
    """Unreachable (a failed poll), then reachable: its NOTIFYs failed meanwhile and it may
    have dropped us, so the subscriptions are renewed now, not at the next renewal."""
    _state, events, coordinator, scheduled = _subscribed()
    events._on_poll()  # a good poll: nothing to do
    assert scheduled == []
    coordinator.last_update_success = False
    events._on_poll()  # unreachable: nothing to renew with
    assert scheduled == []
    coordinator.last_update_success = True
    events._on_poll()  # back
    assert scheduled == [0]
    events._on_poll()  # and only once
    assert scheduled == [0]
