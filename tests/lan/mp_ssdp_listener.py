# MicroPython (unix port) probe for the LAN smoke test: join the SSDP group on the given
# interface address and print every datagram with its sender. Not the agent.
import socket
import struct
import sys

# Linux values; the MicroPython unix port does not export these constants.
IPPROTO_IP = 0
IP_ADD_MEMBERSHIP = 35

local_ip = sys.argv[1]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(socket.getaddrinfo("0.0.0.0", 1900)[0][-1])
mreq = socket.inet_pton(socket.AF_INET, "239.255.255.250") + socket.inet_pton(
    socket.AF_INET, local_ip
)
sock.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreq)
print("listening")
for _ in range(50):
    data, addr = sock.recvfrom(1500)
    # sockaddr_in: family(2) port(2, network order) addr(4)
    port = struct.unpack(">H", addr[2:4])[0]
    host = socket.inet_ntop(socket.AF_INET, addr[4:8])
    print(f"FROM {host}:{port}")
    print(data.decode())
