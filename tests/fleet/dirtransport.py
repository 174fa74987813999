"""A directory standing in for a board's flash behind mpremote's transport calls (the
ones mpremote's `fs cp` and `mip` make), so mpremote's own code runs against it."""

from __future__ import annotations

from pathlib import Path


class DirTransport:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, path: str) -> Path:
        parts = [part for part in path.split("/") if part not in ("", ".")]
        assert ".." not in parts, path
        return self.root.joinpath(*parts)

    def fs_exists(self, path: str) -> bool:
        return self._path(path).exists()

    def fs_isdir(self, path: str) -> bool:
        return self._path(path).is_dir()

    def fs_mkdir(self, path: str) -> None:
        self._path(path).mkdir()  # FileExistsError, as mpremote's transports raise it

    def fs_writefile(self, path: str, data: bytes, progress_callback: object = None) -> None:
        self._path(path).write_bytes(data)
