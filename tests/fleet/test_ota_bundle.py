"""The integration's side of a bundle (custom_components/upnp_guard/appliance/bundle.py)
against bundles the build command made: the digest is the contract's, what the agent
would refuse is never offered, a damaged file is caught before anything is sent, and the
options flow of a paired agent takes the bundle directory."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, mock_component
from upnp_guard_fleet.bundle import bundle_digest, load_manifest

from custom_components.upnp_guard.agent_auth import AgentKey
from custom_components.upnp_guard.appliance import bundle as bundles
from custom_components.upnp_guard.appliance.const import CONF_ALLOW_DOWNGRADE, CONF_BUNDLE_DIR
from custom_components.upnp_guard.const import DOMAIN

from .ota import KEY, build

VERSIONS = ("0.9.0", "0.10.0")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ota-bundles")
    for version in VERSIONS:
        build(out, version)
    return out


def test_digest_is_the_contracts_and_newest_comes_first(dist: Path) -> None:
    found = bundles.scan(dist)
    assert [b.version for b in found] == ["0.10.0", "0.9.0"]  # integer tuples, not strings
    newest = found[0]
    assert newest.digest == bundle_digest(load_manifest(newest.directory))
    assert json.loads(newest.manifest) == load_manifest(newest.directory)
    # The directory of one bundle is a bundle directory too.
    assert [b.version for b in bundles.scan(newest.directory)] == ["0.10.0"]


def test_what_the_agent_would_refuse_is_never_offered(dist: Path, tmp_path: Path) -> None:
    def variant(name: str, change: dict[str, object]) -> None:
        copy = tmp_path / name
        shutil.copytree(dist / "upnpguard-0.9.0", copy)
        manifest = json.loads((copy / "manifest.json").read_text())
        manifest.update(change)
        (copy / "manifest.json").write_text(json.dumps(manifest))

    first = json.loads((dist / "upnpguard-0.9.0" / "manifest.json").read_text())["files"][0]
    variant("traversal", {"version": "1.0.0", "files": [{**first, "path": "../main.py"}]})
    variant("huge", {"version": "1.0.1", "files": [{**first, "size": bundles.FILE_MAX + 1}]})
    variant("string-version", {"version": "v2"})
    variant("other-name", {"version": "1.0.2", "name": "other"})
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "manifest.json").write_text("{not json")
    shutil.copytree(dist / "upnpguard-0.9.0", tmp_path / "good")
    assert [b.version for b in bundles.scan(tmp_path)] == ["0.9.0"]
    assert bundles.scan(tmp_path / "missing") == []


def test_a_damaged_or_escaping_file_is_caught_before_sending(dist: Path, tmp_path: Path) -> None:
    copy = tmp_path / "upnpguard-0.9.0"
    shutil.copytree(dist / "upnpguard-0.9.0", copy)
    bundle = bundles.read_bundle(copy)
    files = bundles.read_files(bundle)
    chunks = list(bundles.chunks(bundle, files))
    assert chunks[0][:2] == ("manifest.json", 0)
    assert max(len(base64.b64decode(data)) for _p, _o, data in chunks) == bundles.CHUNK_BYTES
    sent = b"".join(base64.b64decode(data) for path, _o, data in chunks if path != "manifest.json")
    assert sent == b"".join(data for _path, data in files)
    target = copy / files[0][0]
    target.write_bytes(b"\0" + target.read_bytes()[1:])
    with pytest.raises(bundles.BundleError, match="does not match"):
        bundles.read_files(bundle)
    target.unlink()
    target.symlink_to(dist / "upnpguard-0.9.0" / files[0][0])  # same bytes, outside
    with pytest.raises(bundles.BundleError, match="leaves the bundle"):
        bundles.read_files(bundle)


def test_the_authenticator_is_the_agents() -> None:
    # The firmware's own code: importable once tests.firmware.e2e (through .ota) has put
    # firmware/ on sys.path, which an import at the top would not wait for.
    from upnpguard import auth, ota_receive  # noqa: PLC0415

    digest = "ab" * 32
    ours = bundles.update_auth(AgentKey(KEY), "1.2.3", digest)
    assert ours == ota_receive.update_auth(auth.Key(KEY), "1.2.3", digest)


async def test_options_flow_of_a_paired_agent(
    hass: HomeAssistant, enable_custom_integrations: None, tmp_path: Path
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            "location": "http://192.168.1.20:49152/desc.xml",
            "kind": "appliance",
            "key": base64.b64encode(KEY).decode(),
        },
        version=1,
        minor_version=2,
    )
    # HA's ssdp and network count as set up (this test has no LAN to listen on).
    mock_component(hass, "ssdp")
    mock_component(hass, "network")
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "agent"}
    )
    assert result["step_id"] == "agent"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_BUNDLE_DIR: "relative/dir", CONF_ALLOW_DOWNGRADE: False}
    )
    assert result["errors"] == {CONF_BUNDLE_DIR: "not_a_directory"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_BUNDLE_DIR: str(tmp_path / "nope"), CONF_ALLOW_DOWNGRADE: False}
    )
    assert result["errors"] == {CONF_BUNDLE_DIR: "not_a_directory"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_BUNDLE_DIR: str(tmp_path), CONF_ALLOW_DOWNGRADE: True}
    )
    assert result["type"] == "create_entry"
    assert entry.options == {CONF_BUNDLE_DIR: str(tmp_path), CONF_ALLOW_DOWNGRADE: True}
