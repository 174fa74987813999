"""A hostile UPnP "device" for LAN tests:
`python rogue_device.py IP PORT [REDIRECT_TO [UDN [DEVICE_TYPE]]]`.

Paths:
- /redirect.xml  answers 307 to REDIRECT_TO (say, a server on Home Assistant's loopback);
- /huge.xml      a valid description whose only service's SCPD is /huge-scpd.xml;
- /huge-scpd.xml streams XML filler without end (no Content-Length) until the client
                 goes away, then prints how many bytes it wrote ("sent N");
- /secret.xml    a description (what a server on loopback would hand out);
- /copy.xml      a description claiming UDN (of DEVICE_TYPE, an IGD:2 by default): a
                 host impersonating a configured device.
Every request is printed ("GET /path") so a test sees what was asked.
"""

from __future__ import annotations

import socketserver
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Bounds a run even if a client never stops reading: 96 MiB (tests expect far less).
MAX_STREAM = 96 * 1024 * 1024
CHUNK = b"<x>" + b"y" * (64 * 1024 - 7) + b"</x>"

DESCRIPTION = (
    '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0">'
    "<specVersion><major>1</major><minor>1</minor></specVersion><device>"
    "<deviceType>urn:schemas-upnp-org:device:BinaryLight:1</deviceType>"
    "<friendlyName>{name}</friendlyName><manufacturer>M</manufacturer><modelName>L</modelName>"
    "<UDN>uuid:{name}</UDN><serviceList><service>"
    "<serviceType>urn:schemas-upnp-org:service:SwitchPower:1</serviceType>"
    "<serviceId>urn:upnp-org:serviceId:SwitchPower</serviceId>"
    "<SCPDURL>/huge-scpd.xml</SCPDURL><controlURL>/control</controlURL>"
    "<eventSubURL>/event</eventSubURL></service></serviceList></device></root>"
)


COPY = (
    '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0">'
    "<specVersion><major>1</major><minor>1</minor></specVersion><device>"
    "<deviceType>{device_type}</deviceType><friendlyName>Impostor</friendlyName>"
    "<manufacturer>M</manufacturer><modelName>I</modelName><UDN>{udn}</UDN>"
    "</device></root>"
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    redirect_to = ""
    udn = "uuid:impostor"
    device_type = "urn:schemas-upnp-org:device:InternetGatewayDevice:2"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        print(f"GET {self.path}", flush=True)
        if self.path == "/redirect.xml":
            self.send_response(307)
            self.send_header("Location", self.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path in ("/huge.xml", "/secret.xml", "/copy.xml"):
            if self.path == "/copy.xml":
                body = COPY.format(udn=self.udn, device_type=self.device_type).encode()
            else:
                body = DESCRIPTION.format(name=self.path.strip("/.xml")).encode()
            self.send_response(200)
            self.send_header("Content-Type", 'text/xml; charset="utf-8"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/huge-scpd.xml":
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Connection", "close")
            self.end_headers()
            sent = 0
            try:
                while sent < MAX_STREAM:
                    self.wfile.write(CHUNK)
                    sent += len(CHUNK)
            except OSError:
                pass
            print(f"sent {sent}", flush=True)
            self.close_connection = True
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()


class Server(ThreadingHTTPServer):
    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the address up in DNS (getfqdn): on a LAN with a
        # router that forwards the query to a WAN nobody answers on, that takes seconds.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


def main() -> None:
    ip, port = sys.argv[1], int(sys.argv[2])
    Handler.redirect_to = sys.argv[3] if len(sys.argv) > 3 else ""
    if len(sys.argv) > 4:
        Handler.udn = sys.argv[4]
    if len(sys.argv) > 5:
        Handler.device_type = sys.argv[5]
    server = Server((ip, port), Handler)
    print(f"listening {ip}:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
