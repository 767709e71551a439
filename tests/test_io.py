"""``io.atomic_path``: a file is written whole, with the umask's permissions, or not at all."""
from __future__ import annotations

import os
import stat

import pytest

from forecast.io import atomic_path


def umask_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def test_a_finished_block_leaves_the_file_with_the_umask_permissions(tmp_path):
    target = tmp_path / "out.csv"
    with atomic_path(target) as temporary:
        assert os.path.dirname(temporary) == str(tmp_path)
        with open(temporary, "w") as out:
            out.write("goal\n1\n")
        assert not target.exists()  # nothing in place before the block ends
    assert target.read_text() == "goal\n1\n"
    assert stat.S_IMODE(target.stat().st_mode) == umask_mode()
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_failing_block_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="half way"):
        with atomic_path(target) as temporary:
            with open(temporary, "w") as out:
                out.write("new, half")
            raise RuntimeError("half way")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_folder_that_cannot_take_a_file_raises_oserror(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    with pytest.raises(OSError):
        with atomic_path(blocker / "out.csv"):
            pass
    assert list(tmp_path.iterdir()) == [blocker]
