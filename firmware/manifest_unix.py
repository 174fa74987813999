# The unix-port build the tests and benchmarks run (scripts/build-firmware): what Debian's
# micropython package freezes (asyncio, mip), plus the agent.
include("$(MPY_DIR)/extmod/asyncio")
require("mip")
include("manifest.py")
