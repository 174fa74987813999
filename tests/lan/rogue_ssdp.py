"""Send one SSDP NOTIFY from a LAN test host, as any host on a LAN can:
`python rogue_ssdp.py SOURCE_IP NTS UDN NT [LOCATION [BOOTID]]`.

SOURCE_IP must be an address of the sending namespace (add a second one to the host's
interface to send "from" another machine). NTS is ssdp:alive, ssdp:byebye or
ssdp:update. Prints `sent` when the datagram left.
"""

from __future__ import annotations

import socket
import sys

GROUP = ("239.255.255.250", 1900)


def notify(nts: str, udn: str, nt: str, location: str, boot_id: str) -> bytes:
    lines = [
        "NOTIFY * HTTP/1.1",
        "HOST: 239.255.255.250:1900",
        f"NT: {nt}",
        f"NTS: {nts}",
        f"USN: {udn}::{nt}" if nt != udn else f"USN: {udn}",
    ]
    if nts != "ssdp:byebye":
        lines += [
            "CACHE-CONTROL: max-age=1800",
            f"LOCATION: {location}",
            "SERVER: Linux UPnP/1.1 x/1",
        ]
    if boot_id:
        lines += [f"BOOTID.UPNP.ORG: {boot_id}", "CONFIGID.UPNP.ORG: 1"]
        if nts == "ssdp:update":
            lines.append(f"NEXTBOOTID.UPNP.ORG: {int(boot_id) + 1}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def main() -> None:
    source, nts, udn, nt = sys.argv[1:5]
    location = sys.argv[5] if len(sys.argv) > 5 else ""
    boot_id = sys.argv[6] if len(sys.argv) > 6 else ""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(source))
        sock.bind((source, 0))
        sock.sendto(notify(nts, udn, nt, location, boot_id), GROUP)
    print("sent", flush=True)


if __name__ == "__main__":
    main()
