# Levelled logging to stdout. Nothing secret is ever passed here: no keys, no SIDs in
# full (they are capabilities), no request bodies.
DEBUG = 10
INFO = 20
WARNING = 30
ERROR = 40
_NAMES = {DEBUG: "D", INFO: "I", WARNING: "W", ERROR: "E"}
level = INFO


def set_level(name):
    global level
    level = {"debug": DEBUG, "info": INFO, "warning": WARNING, "error": ERROR}.get(name, INFO)


def log(lvl, *parts):
    if lvl >= level:
        print("[" + _NAMES[lvl] + "]", *parts)


def debug(*parts):
    log(DEBUG, *parts)


def info(*parts):
    log(INFO, *parts)


def warning(*parts):
    log(WARNING, *parts)


def error(*parts):
    log(ERROR, *parts)


def short_sid(sid):
    return sid[:13] + "..."
