# Mutations shared by the fuzzers (fuzz_agent.py on CPython and MicroPython, and the
# network fuzz test on the simulated LAN). `rng` needs only getrandbits().

TOKENS = (
    b"<!",
    b"<!DOCTYPE x [<!ENTITY a 'b'>]>",
    b"&amp;",
    b"&#x41;",
    b"&bogus;",
    b"\r\n",
    b"\r\n\r\n",
    b":",
    b"<",
    b">",
    b"</",
    b"99999999999",
    b"-1",
    b"\x00",
    b"\xff\xfe",
    b"uuid:",
    b"Second-",
    b"Second-infinite",
    b'"ssdp:discover"',
    b"ssdp:all",
    b" ",
    b"\t",
    b"%00",
    b"http://",
    b"10.1.2.30",
    b"255.255.255.255",
)


def mutate(rng, data, seeds):
    data = bytearray(data)
    for _ in range(1 + rng.getrandbits(2)):
        choice = rng.getrandbits(3)
        size = len(data)
        at = rng.getrandbits(16) % (size + 1)
        if choice == 0 and size:  # flip bits in one byte
            data[at % size] ^= 1 << rng.getrandbits(3)
        elif choice == 1:  # insert a random byte
            data[at:at] = bytes([rng.getrandbits(8)])
        elif choice == 2 and size:  # delete a run
            end = min(size, at + 1 + rng.getrandbits(5))
            data[at:end] = b""
        elif choice == 3 and size:  # duplicate a run
            end = min(size, at + 1 + rng.getrandbits(6))
            data[at:at] = data[at:end]
        elif choice == 4:  # insert a token that parsers treat specially
            data[at:at] = TOKENS[rng.getrandbits(8) % len(TOKENS)]
        elif choice == 5:  # truncate
            data = data[:at]
        elif choice == 6:  # splice in the tail of another seed
            other = seeds[rng.getrandbits(8) % len(seeds)]
            data[at:] = other[rng.getrandbits(16) % (len(other) + 1) :]
        else:  # replace a byte with a digit or a space (lengths, numbers, separators)
            if size:
                data[at % size] = b"0123456789 :"[rng.getrandbits(8) % 12]
    return bytes(data[:6000])
