"""firmware/package.json, the mip package of the agent: it lists every module, carries
FIRMWARE_VERSION, and mpremote's mip (PyPI, the code `mpremote mip install
firmware/package.json` runs) installs it into an empty directory the agent then runs from
on the simulated LAN.

The target here is a directory standing in for the board's /lib (the transport below
writes files there instead of over a serial line). The unix port's own on-device `mip`
(Debian's 1.26.1) cannot install that package: it does not resolve the relative URLs of a
package.json. It installs the other form, `upnp-guard-build --mip-base URL`: the compiled
bundle with absolute URLs, served here from a loopback HTTP server."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from mpremote import mip  # type: ignore[import-untyped]
from upnp_guard_fleet.bundle import BundleError, build_bundle, firmware_version, load_manifest
from upnp_guard_fleet.mip import write_mip_package

from tests.firmware.e2e import description, exchange, set_target, status
from tests.fleet.build_fixtures import built_bundle, lan_sockets  # noqa: F401 - fixtures
from tests.fleet.dirtransport import DirTransport
from tests.lan import Lan
from tests.lan.agent import start_agent

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "firmware" / "package.json"


def test_package_lists_every_module_and_the_version() -> None:
    package = json.loads(PACKAGE.read_text())
    assert set(package) == {"urls", "deps", "version"}
    assert package["version"] == firmware_version(REPO / "firmware")
    assert package["deps"] == []
    modules = sorted(
        f"{pkg}/{source.name}"
        for pkg in ("upnpguard", "hal")
        for source in (REPO / "firmware" / pkg).glob("*.py")
    )
    assert sorted(dest for dest, _ in package["urls"]) == modules
    # Relative sources, resolved against the package.json (a local path or a URL).
    assert all(src == dest for dest, src in package["urls"])


@pytest.mark.lan
def test_mpremote_mip_installs_the_agent_which_then_runs(
    lan: Lan, lan_sockets: None, tmp_path: Path
) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    transport = DirTransport(lib)
    mip._install_package(transport, str(PACKAGE), mip._PACKAGE_INDEX, "", None, True)
    installed = sorted(p.relative_to(lib).as_posix() for p in lib.rglob("*") if p.is_file())
    assert installed == sorted(dest for dest, _ in json.loads(PACKAGE.read_text())["urls"])
    for name in installed:
        assert (lib / name).read_bytes() == (REPO / "firmware" / name).read_bytes()
    # The agent runs from what mip installed (sources: the compiler needs a larger heap).
    agent = start_agent(lan, build="mpy", bundle=lib, heap="256wK")
    pc = lan.add_host("pc")
    desc = description(pc, agent)
    assert f"<modelNumber>{firmware_version(REPO / 'firmware')}</modelNumber>" in desc
    response = exchange(pc, agent, set_target(agent, desc, 1))
    assert status(response) == 200
    assert agent.pins()["5"] == 1
    agent.stop()


@contextlib.contextmanager
def _serve(directory: Path) -> Iterator[int]:
    """A loopback HTTP server for `directory` (a bundle's publication site)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server.server_address[1]
        finally:
            server.shutdown()
            thread.join(10)


@pytest.mark.lan
def test_unix_port_mip_installs_the_bundle_which_then_runs(
    lan: Lan, lan_sockets: None, socket_enabled: None, tmp_path: Path
) -> None:
    dist = tmp_path / "site"
    bundle = build_bundle(REPO / "firmware", dist, version="7.7.8")
    lib = tmp_path / "lib"
    lib.mkdir()
    with _serve(dist) as port:
        base = f"http://127.0.0.1:{port}/{bundle.name}/"
        package = write_mip_package(bundle, base)
        assert package.parent == dist  # beside the bundle: the bundle stays as built
        load_manifest(bundle)
        url = f"http://127.0.0.1:{port}/{package.name}"
        result = subprocess.run(
            ["micropython", "-c", f"import mip; mip.install({url!r}, target={str(lib)!r})"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Done" in result.stdout, result.stdout
    # What mip installed is the whole bundle, byte for byte, and checks as one.
    assert load_manifest(lib)["version"] == "7.7.8"
    for entry in load_manifest(bundle)["files"]:
        assert hashlib.sha256((lib / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
    agent = start_agent(lan, build="mpy", bundle=lib)
    pc = lan.add_host("pc")
    assert "<modelNumber>7.7.8</modelNumber>" in description(pc, agent)
    agent.stop()


@pytest.mark.parametrize(
    "base", ["ftp://host/x/", "http://host/a b/", 'http://host/"/', "file:///tmp/", "x" * 600]
)
def test_mip_base_must_be_an_http_url(built_bundle: Path, base: str) -> None:
    with pytest.raises(BundleError, match="must be an http"):
        write_mip_package(built_bundle, base)
