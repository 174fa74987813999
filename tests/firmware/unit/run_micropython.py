# Runs the firmware core's unit tests under the MicroPython unix port: every test_*
# function of every test_*.py module in this directory. Exit status 1 if any fails.
# Usage: micropython tests/firmware/unit/run_micropython.py <repo root>
import os
import sys

# The WebAssembly port has no sys.argv (tests/firmware/test_wasm.py runs this in the root).
argv = getattr(sys, "argv", None) or []
root = argv[1] if len(argv) > 1 else "."
here = root + "/tests/firmware/unit"
sys.path.insert(0, root + "/firmware")
sys.path.insert(0, here)

failed = 0
passed = 0
for name in sorted(os.listdir(here)):
    if not (name.startswith("test_") and name.endswith(".py")):
        continue
    module = __import__(name[:-3])
    for attr in sorted(dir(module)):
        if not attr.startswith("test_"):
            continue
        try:
            getattr(module, attr)()
        except Exception as err:  # report and keep going
            failed += 1
            print("FAIL", name, attr, type(err).__name__, err)
            sys.print_exception(err)
        else:
            passed += 1
print("passed", passed, "failed", failed)
sys.exit(1 if failed or not passed else 0)
