"""Files written whole or not at all."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["atomic_path"]


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """The path of a temporary file beside ``path``, to write in: it becomes ``path``,
    with the permissions a new file gets under the umask, once the block ends
    without error, and is removed otherwise, so a failure never leaves a
    half-written file. Raises OSError when the folder cannot take a new file."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.",
                                         suffix=".tmp", dir=folder)
    os.close(handle)
    try:
        yield temporary
        umask = os.umask(0)  # read without changing it: set, then put back
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it 0600
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
