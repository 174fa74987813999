# Board state (identity, boot counter) as small files in one directory, written atomically
# (a power cut leaves the old value or the new one). Shared by the esp32 and unix HALs.
import os


def load(directory, name):
    try:
        with open(directory + "/" + name, "rb") as f:
            return f.read()
    except OSError:
        return None


def store(directory, name, data):
    try:
        os.mkdir(directory)
    except OSError:
        pass  # it exists already
    path = directory + "/" + name
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.rename(path + ".tmp", path)
