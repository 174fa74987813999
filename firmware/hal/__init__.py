# The one place the platform is chosen: esp32 on the board, unix everywhere else.
import sys


def load():
    if sys.platform == "esp32":
        from hal import esp32 as platform
    else:
        from hal import unix as platform
    return platform
