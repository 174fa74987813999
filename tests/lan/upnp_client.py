"""Run async-upnp-client's `upnp-client` command line tool unchanged.

Its entry point calls `asyncio.get_event_loop()` with no loop set, which Python 3.14
turned into an error ("There is no current event loop"). This shim sets a loop first and
then hands over to the tool's own `main()`, so tests exercise the real third-party CLI.
"""

import asyncio
import sys

from async_upnp_client.cli import main

if __name__ == "__main__":
    asyncio.set_event_loop(asyncio.new_event_loop())
    sys.argv[0] = "upnp-client"
    main()
