"""Files written whole or not at all."""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["atomic_path"]


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """The path of a temporary file beside ``path``, to write in: it becomes ``path``
    once the block ends without error, and is removed otherwise (an exception, Ctrl-C,
    SIGTERM turned into SystemExit), so a failure never leaves a half-written file.

    A file replaced keeps its permissions; a new one gets those the umask gives. A
    symbolic link is written through: the file it points to is replaced, the link
    stays. Raises OSError when the folder cannot take a new file.
    """
    path = os.path.realpath(os.fspath(path))  # through symbolic links
    folder = os.path.dirname(path)
    try:
        status = os.stat(path)
        if not stat.S_ISREG(status.st_mode):  # a device, a FIFO: never replaced
            raise OSError(errno.EISDIR if stat.S_ISDIR(status.st_mode) else errno.EINVAL,
                          "not a regular file", path)
        mode = stat.S_IMODE(status.st_mode)
    except FileNotFoundError:
        umask = os.umask(0)  # read without changing it: set, then put back
        os.umask(umask)
        mode = 0o666 & ~umask
    handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.",
                                         suffix=".tmp", dir=folder)
    os.close(handle)
    try:
        yield temporary
        os.chmod(temporary, mode)  # mkstemp makes it 0600
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
