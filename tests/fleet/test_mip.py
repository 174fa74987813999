"""firmware/package.json, the mip package of the agent: it lists every module, carries
FIRMWARE_VERSION, and mpremote's mip (PyPI, the code `mpremote mip install
firmware/package.json` runs) installs it into an empty directory the agent then runs from
on the simulated LAN.

The target here is a directory standing in for the board's /lib (the transport below
writes files there instead of over a serial line). The unix port's own on-device `mip`
(Debian's 1.26.1) cannot install this package: it does not resolve the relative URLs of a
package.json (mpremote and newer micropython-lib mip do) — docs/firmware.md says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mpremote import mip  # type: ignore[import-untyped]
from upnp_guard_fleet.bundle import firmware_version

from tests.firmware.e2e import description, exchange, soap, status
from tests.lan import Lan
from tests.lan.agent import start_agent

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "firmware" / "package.json"
SWITCH = "urn:schemas-upnp-org:service:SwitchPower:1"


class DirTransport:
    """What mpremote's mip calls on a board's transport, on a local directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written: list[str] = []

    def _path(self, path: str) -> Path:
        assert not path.startswith("/"), path
        assert ".." not in path.split("/"), path
        return self.root / path

    def fs_exists(self, path: str) -> bool:
        return self._path(path).exists()

    def fs_mkdir(self, path: str) -> None:
        self._path(path).mkdir()

    def fs_writefile(self, path: str, data: bytes, progress_callback: object = None) -> None:
        self._path(path).write_bytes(data)
        self.written.append(path)


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
    mip._install_package(transport, str(PACKAGE), mip._PACKAGE_INDEX, ".", None, True)
    installed = sorted(p.relative_to(lib).as_posix() for p in lib.rglob("*") if p.is_file())
    assert installed == sorted(dest for dest, _ in json.loads(PACKAGE.read_text())["urls"])
    for name in installed:
        assert (lib / name).read_bytes() == (REPO / "firmware" / name).read_bytes()
    # The agent runs from what mip installed (sources: the compiler needs a larger heap).
    agent = start_agent(lan, build="mpy", bundle=lib, heap="256wK")
    pc = lan.add_host("pc")
    desc = description(pc, agent)
    assert f"<modelNumber>{firmware_version(REPO / 'firmware')}</modelNumber>" in desc
    response = exchange(
        pc, agent, soap(agent, desc, SWITCH, "SetTarget", "<newTargetValue>1</newTargetValue>")
    )
    assert status(response) == 200
    assert agent.pins()["5"] == 1
    agent.stop()
