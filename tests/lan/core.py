"""Namespaces, hosts, processes and the miniupnpd router of the simulated LAN."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

SSDP_GROUP = "239.255.255.250"
SSDP_PORT = 1900
LAN_PREFIX_LEN = 24
# Upper bound for any single harness command (ip, nft, upnpc ...).
COMMAND_TIMEOUT = 30.0
# How long teardown waits for SIGKILLed processes to leave a namespace before deleting it.
STRAGGLER_WAIT_S = 5.0
_ROUTER_HTTP_PORT = 5000
# async-upnp-client's CLI, through a shim that works on Python 3.14 (see upnp_client.py).
UPNP_CLIENT = (sys.executable, str(Path(__file__).with_name("upnp_client.py")))


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=COMMAND_TIMEOUT)


def _netns_pids(netns: str) -> list[str]:
    """Processes whose network namespace is `netns` (zombies excluded: they hold none)."""
    return subprocess.run(
        ["ip", "netns", "pids", netns],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    ).stdout.split()


class Process:
    """A process started inside a namespace; output goes to a log file."""

    def __init__(self, argv: Sequence[str], netns: str, log_path: Path, **kwargs: object) -> None:
        self.argv = list(argv)
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.popen = subprocess.Popen(
            ["ip", "netns", "exec", netns, *argv],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE,
            start_new_session=True,
            **kwargs,  # type: ignore[call-overload]
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        """Wait until the output matches the regular expression `pattern`."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            match = regex.search(self.output())
            if match:
                return match
            if self.popen.poll() is not None:
                raise RuntimeError(
                    f"{self.argv[0]} exited ({self.popen.returncode}) before printing "
                    f"{pattern!r}:\n{self.output()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.argv[0]} did not print {pattern!r} in {timeout} s:\n"
                    f"{self.output()[-3000:]}"
                )
            time.sleep(0.02)

    def send_signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit status."""
        if self.popen.poll() is None:
            self.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.send_signal(signal.SIGKILL)
                self.popen.wait(timeout)
        if self.popen.stdin:
            with contextlib.suppress(OSError):
                self.popen.stdin.close()
        self._log.close()
        return self.popen.returncode


class Host:
    """One simulated machine: a namespace with eth0 on the LAN (or WAN) bridge."""

    def __init__(self, lan: Lan, name: str, netns: str, ip: str, network: str) -> None:
        self.lan = lan
        self.name = name
        self.netns = netns
        self.ip = ip
        self.network = ipaddress.ip_network(network)
        self.processes: list[Process] = []

    def __repr__(self) -> str:
        return f"<Host {self.name} {self.ip} in {self.netns}>"

    def argv(self, *args: str) -> list[str]:
        return ["ip", "netns", "exec", self.netns, *args]

    def run(
        self,
        *args: str,
        check: bool = True,
        timeout: float = COMMAND_TIMEOUT,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in this host's namespace and wait for it."""
        result = subprocess.run(
            self.argv(*args),
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{self.name}: {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def start(self, *args: str, label: str | None = None, **kwargs: object) -> Process:
        """Start a long-running command in this namespace; stopped by Lan.close()."""
        label = label or Path(args[0]).name
        log_path = self.lan.workdir / f"{self.name}-{label}-{len(self.processes)}.log"
        proc = Process(args, self.netns, log_path, **kwargs)
        self.processes.append(proc)
        return proc

    @contextlib.contextmanager
    def entered(self) -> Iterator[None]:
        """Move the calling thread into this namespace (sockets it opens stay there)."""
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(f"/run/netns/{self.netns}", os.O_RDONLY)
        try:
            os.setns(target, os.CLONE_NEWNET)
            try:
                yield
            finally:
                os.setns(own, os.CLONE_NEWNET)
        finally:
            os.close(target)
            os.close(own)


class Router(Host):
    """A router host running a real miniupnpd (nftables backend)."""

    wan_ip: str
    wan_network: ipaddress.IPv4Network
    daemon: Process | None = None
    conf_path: Path
    http_port: int = _ROUTER_HTTP_PORT

    def nft_ruleset(self) -> str:
        return self.run("nft", "list", "ruleset").stdout

    def start_miniupnpd(
        self,
        *,
        secure_mode: bool = True,
        igd_v1: bool = False,
        allow_rules: Sequence[str] = (),
        extra_options: dict[str, str] | None = None,
    ) -> Process:
        """Write a miniupnpd.conf, run the nft init script, start the daemon in foreground.

        `allow_rules` are miniupnpd permission rules ("allow 1024-65535 <lan>/24 1024-65535");
        by default the whole LAN may map unprivileged ports and everything else is denied.
        """
        if self.daemon is not None:
            self.stop_miniupnpd()
        lan_cidr = str(self.network)
        rules = list(allow_rules) or [f"allow 1024-65535 {lan_cidr} 1024-65535"]
        options = {
            "ext_ifname": "wan0",
            "listening_ip": "eth0",
            "http_port": str(self.http_port),
            "enable_natpmp": "yes",
            "enable_upnp": "yes",
            "secure_mode": "yes" if secure_mode else "no",
            # The simulated WAN uses a private range; without this miniupnpd refuses to
            # serve because it believes it sits behind another NAT.
            "ext_allow_private_ipv4": "yes",
            "system_uptime": "yes",
            "notify_interval": "60",
            "clean_ruleset_interval": "600",
            "uuid": "3f7c3b0e-6d4f-4c1a-9b2d-" + secrets.token_hex(6),
            "lease_file": str(self.lan.workdir / f"{self.name}-miniupnpd.leases"),
            "friendly_name": "UPnP Guard test router",
            "upnp_table_name": "filter",
            "upnp_nat_table_name": "filter",
            "upnp_forward_chain": "miniupnpd",
            "upnp_nat_chain": "prerouting_miniupnpd",
            "upnp_nat_postrouting_chain": "postrouting_miniupnpd",
        }
        options.update(extra_options or {})
        lines = [f"{key}={value}" for key, value in options.items()]
        lines += [*rules, "deny 0-65535 0.0.0.0/0 0-65535"]
        self.conf_path = self.lan.workdir / f"{self.name}-miniupnpd.conf"
        self.conf_path.write_text("\n".join(lines) + "\n")
        init = shutil.which("nft_init.sh") or "/etc/miniupnpd/nft_init.sh"
        self.run("sh", init, "-f", str(self.conf_path))
        args = ["miniupnpd", "-d", "-f", str(self.conf_path)]
        if igd_v1:
            args.append("-1")
        self.daemon = self.start(*args, label="miniupnpd")
        self.daemon.wait_for_output(r"HTTP listening on port", timeout=10)
        return self.daemon

    def stop_miniupnpd(self) -> None:
        if self.daemon is not None:
            self.daemon.stop()
            self.daemon = None

    @property
    def description_url(self) -> str:
        return f"http://{self.ip}:{self.http_port}/rootDesc.xml"


class Lan:
    """A simulated home network. Create with `Lan()`, always `close()` it."""

    def __init__(self, workdir: Path | None = None) -> None:
        if os.geteuid() != 0:
            raise PermissionError("the simulated LAN needs root (network namespaces)")
        self.run_id = secrets.token_hex(3)
        self.prefix = f"ug{self.run_id}"
        # A random private /24 for the LAN and one for the WAN; both exist only inside
        # this run's namespaces.
        octet = 16 + secrets.randbelow(200)
        self.lan_net = ipaddress.ip_network(f"10.{octet}.{secrets.randbelow(250)}.0/24")
        self.wan_net = ipaddress.ip_network(f"172.{16 + secrets.randbelow(16)}.{octet}.0/24")
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix=f"{self.prefix}-"))
        self.hosts: dict[str, Host] = {}
        self._namespaces: list[str] = []
        self._next = {"lan": 10, "wan": 10}
        self._links = 0
        self.switch = f"{self.prefix}-sw"
        self._add_netns(self.switch)
        for bridge in ("lan", "wan"):
            self._ip_in(self.switch, "link", "add", bridge, "type", "bridge")
            # Flood multicast to every port: SSDP must reach every host without IGMP.
            self._ip_in(self.switch, "link", "set", bridge, "type", "bridge", "mcast_snooping", "0")
            self._ip_in(self.switch, "link", "set", bridge, "up")
        self.router: Router | None = None

    # -- plumbing ---------------------------------------------------------------------
    def _add_netns(self, name: str) -> None:
        _ip("netns", "add", name)
        self._namespaces.append(name)
        self._ip_in(name, "link", "set", "lo", "up")

    def _ip_in(self, netns: str, *args: str) -> None:
        _ip("-n", netns, *args)

    def _plug(self, netns: str, segment: str, ifname: str, address: str, prefix: int) -> None:
        """Connect `netns` to a bridge with a veth pair named `ifname` on the host side."""
        self._links += 1
        outer = f"{self.prefix}{self._links:03d}"  # <= 11 chars, kernel limit is 15
        inner = f"{outer}p"
        _ip(
            "link",
            "add",
            outer,
            "netns",
            self.switch,
            "type",
            "veth",
            "peer",
            "name",
            inner,
            "netns",
            netns,
        )
        self._ip_in(self.switch, "link", "set", outer, "master", segment, "up")
        self._ip_in(netns, "link", "set", inner, "name", ifname)
        self._ip_in(netns, "addr", "add", f"{address}/{prefix}", "dev", ifname)
        self._ip_in(netns, "link", "set", ifname, "up")

    def _address(self, segment: str, index: int | None) -> str:
        net = self.lan_net if segment == "lan" else self.wan_net
        if index is None:
            index = self._next[segment]
            self._next[segment] += 1
        return str(net.network_address + index)

    # -- hosts --------------------------------------------------------------------------
    def add_host(self, name: str, *, segment: str = "lan", index: int | None = None) -> Host:
        """Add a machine on the LAN (or the WAN) with eth0 and a default route."""
        if name in self.hosts:
            raise ValueError(f"host {name} exists")
        netns = f"{self.prefix}-{name}"
        self._add_netns(netns)
        ip = self._address(segment, index)
        net = self.lan_net if segment == "lan" else self.wan_net
        self._plug(netns, segment, "eth0", ip, net.prefixlen)
        # SSDP multicast leaves through eth0 even without a default route.
        self._ip_in(netns, "route", "add", "224.0.0.0/4", "dev", "eth0")
        if segment == "lan":
            self._ip_in(netns, "route", "add", "default", "via", self._address("lan", 1))
        else:
            self._ip_in(netns, "route", "add", str(self.lan_net), "via", self._address("wan", 2))
        host = Host(self, name, netns, ip, str(net))
        self.hosts[name] = host
        return host

    def add_router(self, name: str = "router") -> Router:
        """Add the router: LAN .1 on eth0, WAN .2 on wan0, an ISP host at WAN .1."""
        if self.router is not None:
            raise ValueError("one router per LAN")
        netns = f"{self.prefix}-{name}"
        self._add_netns(netns)
        lan_ip = self._address("lan", 1)
        wan_ip = self._address("wan", 2)
        self._plug(netns, "lan", "eth0", lan_ip, self.lan_net.prefixlen)
        self._plug(netns, "wan", "wan0", wan_ip, self.wan_net.prefixlen)
        self._ip_in(netns, "route", "add", "224.0.0.0/4", "dev", "eth0")
        self._ip_in(netns, "route", "add", "default", "via", self._address("wan", 1))
        subprocess.run(
            ["ip", "netns", "exec", netns, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
            check=True,
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
        )
        router = Router(self, name, netns, lan_ip, str(self.lan_net))
        router.wan_ip = wan_ip
        router.wan_network = ipaddress.IPv4Network(self.wan_net)
        self.hosts[name] = router
        self.router = router
        self.add_host("isp", segment="wan", index=1)
        return router

    # -- teardown -----------------------------------------------------------------------
    def close(self) -> None:
        """Stop every process and delete every namespace. Safe to call twice."""
        for host in self.hosts.values():
            for proc in host.processes:
                proc.stop(timeout=3)
            host.processes.clear()
        for netns in reversed(self._namespaces):
            # Deleting the namespace removes its veth ends; kill stragglers first, and
            # wait (bounded) until they are gone: a SIGKILLed process still runs for a
            # moment, longer on a loaded machine.
            deadline = time.monotonic() + STRAGGLER_WAIT_S
            while pids := _netns_pids(netns):
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError, ValueError):
                        os.kill(int(pid), signal.SIGKILL)
                if time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            subprocess.run(
                ["ip", "netns", "del", netns],
                capture_output=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        self._namespaces.clear()
        self.hosts.clear()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Lan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
