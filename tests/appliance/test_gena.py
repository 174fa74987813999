"""gena.py: the subscriptions both entry kinds hold, its renewal rule, and the one
assumption it makes about async-upnp-client (a SID is dropped before UNSUBSCRIBE is sent):
if a release changes that, this file fails."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.upnp_guard.const import (
    MIN_SUBSCRIPTION_RENEW_DELAY,
    RENEWAL_MARGIN_S,
    SUBSCRIPTION_TIMEOUT_S,
)
from custom_components.upnp_guard.gena import renewal_delay
from tests.fakes.upnp_device import FakeUpnpDevice


@pytest.mark.parametrize(
    ("remaining", "delay"),
    [
        (SUBSCRIPTION_TIMEOUT_S, SUBSCRIPTION_TIMEOUT_S / 2),  # half of a normal lifetime
        (100, 100 - RENEWAL_MARGIN_S),  # the margin before the end wins over half
        (20, MIN_SUBSCRIPTION_RENEW_DELAY),  # a tiny grant: no tight loop
        (-5, MIN_SUBSCRIPTION_RENEW_DELAY),  # already over: soon, not at once
    ],
)
def test_one_renewal_rule(remaining: float, delay: float) -> None:
    assert renewal_delay(remaining) == delay


async def test_forget_drops_the_sid_at_once_and_tells_the_device(
    hass: HomeAssistant, init_light: MockConfigEntry, light_device: FakeUpnpDevice
) -> None:
    connection = init_light.runtime_data
    gena = connection.gena
    handler = gena.handler
    sids = list(gena.active)
    assert sids
    assert all(handler.service_for_sid(sid) is not None for sid in sids)

    gena.forget_all()
    # Synchronously: a NOTIFY with one of these SIDs finds no service any more.
    assert gena.active == {}
    assert [handler.service_for_sid(sid) for sid in sids] == [None] * len(sids)
    # And the device is told, in the background (best effort).
    await hass.async_block_till_done(wait_background_tasks=True)
    unsubscribed = [call for call in light_device.mocker.mock_calls if call[0] == "UNSUBSCRIBE"]
    assert len(unsubscribed) == len(sids)
