# Waiting on raw non-blocking sockets inside MicroPython's asyncio, for the shell: its
# asyncio has no datagram endpoints and no cancellable connect, so the shell parks on the
# poller the way asyncio's own streams do.
import asyncio
import struct


def wait_readable(sock):
    return _wait(sock, 0)


def wait_writable(sock):
    return _wait(sock, 1)


def _wait(sock, idx):
    io = asyncio.core._io_queue  # type: ignore[attr-defined]  # MicroPython asyncio, beyond the stubs
    try:
        yield io.queue_read(sock) if idx == 0 else io.queue_write(sock)
    except MemoryError:
        # On a full heap, queue_read/queue_write can fail after recording this task in
        # the IO map but before registering the socket with the poller; that stale entry
        # would fail every later wait on this (long-lived) socket. Remove it.
        entry = io.map.get(id(sock))
        if entry is not None and entry[idx] is asyncio.current_task():
            entry[idx] = None
            if entry[1 - idx] is None:
                del io.map[id(sock)]
                try:
                    io.poller.unregister(sock)
                except Exception:
                    pass
        raise


def sockaddr(raw):
    """(ip, port) of a peer: MicroPython returns a raw sockaddr_in (port at 2..4, big
    endian; IPv4 at 4..8), CPython a tuple."""
    if isinstance(raw, tuple):
        return raw[0], raw[1]
    port = struct.unpack(">H", bytes(raw[2:4]))[0]
    return "{}.{}.{}.{}".format(raw[4], raw[5], raw[6], raw[7]), port
