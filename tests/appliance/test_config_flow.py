"""Config flow: every step and every error (100% of config_flow.py)."""

from __future__ import annotations

from collections.abc import Generator
from unittest.mock import patch

import pytest
import pytest_socket
from homeassistant.config_entries import SOURCE_IGNORE, SOURCE_SSDP, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.service_info.ssdp import SsdpServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.upnp_guard.config_flow import UpnpGuardConfigFlow
from custom_components.upnp_guard.const import CONF_LOCATION, DOMAIN, MAX_LOCATION_LENGTH

from .conftest import LAN_BASE_URL, FakeUpnpDevice, SsdpHub, agent, dimmable_light, entry_for

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "ssdp_hub", "socket_enabled")

AGENT_ST = "urn:upnp-guard-org:device:Agent:1"


def discovery(device: FakeUpnpDevice, location: str | None = None) -> SsdpServiceInfo:
    return SsdpServiceInfo(
        ssdp_usn=f"{device.spec.udn}::{device.spec.device_type}",
        ssdp_st=device.spec.device_type,
        ssdp_location=location or device.location,
        ssdp_udn=device.spec.udn,
        upnp={
            "deviceType": device.spec.device_type,
            "friendlyName": device.spec.friendly_name,
            "UDN": device.spec.udn,
        },
    )


@pytest.fixture
def lan_setup_skipped() -> Generator[None]:
    """Entries of LAN_BASE_URL devices are not set up: only the flow is under test (the
    setup would look for a route to an address that exists nowhere here)."""
    with patch("custom_components.upnp_guard.async_setup_entry", return_value=True):
        yield


@pytest.fixture
def lan_light(aioclient_mock: AiohttpClientMocker, lan_setup_skipped: None) -> FakeUpnpDevice:
    """The light as SSDP finds it: on a LAN address (only its description is fetched)."""
    return FakeUpnpDevice(aioclient_mock, dimmable_light(), base_url=LAN_BASE_URL)


@pytest.fixture
def lan_agent(aioclient_mock: AiohttpClientMocker, lan_setup_skipped: None) -> FakeUpnpDevice:
    """An agent as SSDP finds it: on a LAN address."""
    return FakeUpnpDevice(aioclient_mock, agent(), base_url=LAN_BASE_URL)


async def test_user_enters_url(hass: HomeAssistant, light_device: FakeUpnpDevice) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCATION: f" {light_device.location} "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Hall light"
    assert result["result"].unique_id == light_device.spec.udn
    assert result["data"] == {
        "kind": "appliance",
        "location": light_device.location,
        "udn": light_device.spec.udn,
        "device_type": "urn:schemas-upnp-org:device:DimmableLight:1",
        # Typed by the user: this host is trusted although loopback is no LAN address.
        "typed_host": "127.0.0.1",
    }


async def test_user_picks_discovered_device(
    hass: HomeAssistant, ssdp_hub: SsdpHub, lan_agent: FakeUpnpDevice
) -> None:
    ssdp_hub.discoveries[AGENT_ST] = [discovery(lan_agent)]
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    schema_keys = [str(key) for key in result["data_schema"].schema]
    assert schema_keys == ["discovered", "location"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"discovered": lan_agent.spec.udn}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garage agent"


async def test_user_list_hides_configured_devices(
    hass: HomeAssistant, ssdp_hub: SsdpHub, agent_device: FakeUpnpDevice
) -> None:
    entry_for(agent_device).add_to_hass(hass)
    ssdp_hub.discoveries[AGENT_ST] = [discovery(agent_device)]
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert [str(key) for key in result["data_schema"].schema] == ["location"]


async def test_user_nothing_given(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "no_device"}


@pytest.mark.parametrize(
    ("location", "mock", "error"),
    [
        ("ftp://127.0.0.1/description.xml", None, "invalid_url"),
        ("http://127.0.0.1/" + "a" * 600, None, "invalid_url"),
        ("http://127.0.0.1:1/x.xml", {"exc": OSError("refused")}, "cannot_connect"),
        ("http://127.0.0.1:1/x.xml", {"exc": TimeoutError()}, "cannot_connect"),
        ("http://127.0.0.1:1/x.xml", {"status": 404, "text": "nope"}, "not_upnp"),
        ("http://127.0.0.1:1/x.xml", {"text": "<html><body>router</body></html"}, "not_upnp"),
        (
            "http://127.0.0.1:1/x.xml",
            {"text": '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"/>'},
            "malformed_description",
        ),
    ],
)
async def test_user_errors_then_recovers(  # noqa: PLR0917
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    light_device: FakeUpnpDevice,
    location: str,
    mock: dict[str, object] | None,
    error: str,
) -> None:
    if mock is not None:
        aioclient_mock.get(location, **mock)  # type: ignore[arg-type]
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCATION: location}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    # The same flow goes on with a good URL.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCATION: light_device.location}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_unsupported_device(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    from .conftest import DeviceSpec, ServiceSpec  # noqa: PLC0415

    printer = DeviceSpec(
        "urn:schemas-upnp-org:device:Printer:1",
        "uuid:printer",
        "Printer",
        [ServiceSpec("urn:schemas-upnp-org:service:PrintBasic:1", "urn:x:serviceId:P", {}, {})],
    )
    device = FakeUpnpDevice(aioclient_mock, printer, base_url="http://127.0.0.4:5555")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCATION: device.location}
    )
    assert result["errors"] == {"base": "not_supported"}


async def test_user_step_never_moves_a_configured_device(
    hass: HomeAssistant, light_device: FakeUpnpDevice
) -> None:
    """Reconfigure is the deliberate way to move an entry; the user step only says it
    is configured (location.py)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=light_device.spec.udn,
        data={CONF_LOCATION: "http://127.0.0.1:1/old.xml", "kind": "appliance"},
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCATION: light_device.location}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_LOCATION] == "http://127.0.0.1:1/old.xml"


async def test_ssdp_confirm(hass: HomeAssistant, lan_light: FakeUpnpDevice) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=discovery(lan_light)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"] == {"name": "Hall light"}
    # A second announcement (an embedded device of the same root) joins the same flow.
    again = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=discovery(lan_light)
    )
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_in_progress"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == lan_light.spec.udn


async def test_ssdp_confirm_refuses_another_udn_than_announced(
    hass: HomeAssistant, lan_light: FakeUpnpDevice
) -> None:
    info = discovery(lan_light)
    info.upnp = {**info.upnp, "UDN": "uuid:announced-elsewhere"}
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=info
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_ssdp_device_gone_before_confirm(
    hass: HomeAssistant, lan_light: FakeUpnpDevice
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=discovery(lan_light)
    )
    lan_light.offline = True
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"


async def test_ssdp_incomplete(hass: HomeAssistant, light_device: FakeUpnpDevice) -> None:
    info = discovery(light_device)
    info.upnp = {}
    info.ssdp_udn = None  # type: ignore[assignment]
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=info
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "incomplete_discovery"


async def test_ssdp_elsewhere_does_not_move_a_configured_device(
    hass: HomeAssistant, light_device: FakeUpnpDevice
) -> None:
    """An announcement without a source that matches its location is no move: the entry
    stays and a repair issue says what was seen (the LAN tests cover every check)."""
    entry = entry_for(light_device)
    entry.add_to_hass(hass)
    moved = "http://127.0.0.1:49999/description.xml"
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=discovery(light_device, moved)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_LOCATION] == light_device.location
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"location_move_{entry.entry_id}")
    assert issue is not None
    assert issue.is_fixable
    assert issue.data == {"entry_id": entry.entry_id, "location": moved}


async def test_ssdp_overlong_location_aborts(
    hass: HomeAssistant, light_device: FakeUpnpDevice
) -> None:
    entry = entry_for(light_device)
    entry.add_to_hass(hass)
    long_location = "http://127.0.0.1:49999/" + "d" * MAX_LOCATION_LENGTH
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=discovery(light_device, long_location)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_url"
    assert entry.data[CONF_LOCATION] == light_device.location
    assert not ir.async_get(hass).issues


async def test_ssdp_router_goes_to_router_step(
    hass: HomeAssistant, light_device: FakeUpnpDevice
) -> None:
    info = discovery(light_device)
    info.upnp = {**info.upnp, "deviceType": "urn:schemas-upnp-org:device:InternetGatewayDevice:2"}
    called: list[SsdpServiceInfo] = []

    async def router_ssdp(self: UpnpGuardConfigFlow, discovery_info: SsdpServiceInfo) -> object:
        called.append(discovery_info)
        return self.async_abort(reason="router_seen")

    from unittest.mock import patch  # noqa: PLC0415

    with patch.object(UpnpGuardConfigFlow, "async_step_router_ssdp", router_ssdp):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_SSDP}, data=info
        )
    assert result["reason"] == "router_seen"
    assert called == [info]


async def test_ignore_then_discovery_is_silent(
    hass: HomeAssistant, light_device: FakeUpnpDevice
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_IGNORE},
        data={"unique_id": light_device.spec.udn, "title": "Hall light"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_SSDP}, data=discovery(light_device)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth(hass: HomeAssistant, light_device: FakeUpnpDevice) -> None:
    entry = entry_for(light_device)
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    light_device.offline = True
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "cannot_connect"}
    light_device.offline = False
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    # The entry reloads in the background: let it finish before the test ends.
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_reconfigure(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, light_device: FakeUpnpDevice
) -> None:
    from .conftest import dimmable_light  # noqa: PLC0415

    # The reloaded entry looks up its local address towards these loopback hosts.
    pytest_socket.socket_allow_hosts(["127.0.0.1", "127.0.0.2", "127.0.0.3"])
    entry = entry_for(light_device)
    entry.add_to_hass(hass)
    moved = FakeUpnpDevice(aioclient_mock, light_device.spec, base_url="http://127.0.0.2:50000")
    other = FakeUpnpDevice(
        aioclient_mock, dimmable_light("uuid:other"), base_url="http://127.0.0.3:50001"
    )
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCATION: "nonsense"}
    )
    assert result["errors"] == {"base": "invalid_url"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCATION: moved.location}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_LOCATION] == moved.location

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LOCATION: other.location}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert entry.data[CONF_LOCATION] == moved.location
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)


async def test_options_only_for_routers(hass: HomeAssistant) -> None:
    appliance = MockConfigEntry(domain=DOMAIN, data={"kind": "appliance", CONF_LOCATION: "x"})
    router = MockConfigEntry(domain=DOMAIN, data={"kind": "router", CONF_LOCATION: "x"})
    assert not UpnpGuardConfigFlow.async_supports_options_flow(appliance)
    assert UpnpGuardConfigFlow.async_supports_options_flow(router)
    assert UpnpGuardConfigFlow.async_get_options_flow(router) is not None
    with pytest.raises(NotImplementedError):
        UpnpGuardConfigFlow.async_get_options_flow(appliance)
