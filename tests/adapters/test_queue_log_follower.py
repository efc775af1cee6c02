"""The queue_log follower keeps reading across rotation and truncation, on real files."""

from __future__ import annotations

import os
from pathlib import Path

from adapters.queue_log_follower import FileFollower


def append(path: Path, text: str) -> None:
    with open(path, "a") as handle:
        handle.write(text)


def test_follows_appends_and_waits_for_complete_lines(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_text("old|line\n")
    follower = FileFollower(log)
    assert follower.poll() == []  # starts at the end, like tail -F
    append(log, "1|a|q|NONE|ENTERQUEUE||x|1\n2|a|q|NONE|ABAN")
    assert follower.poll() == ["1|a|q|NONE|ENTERQUEUE||x|1"]
    append(log, "DON|1|1|5\n")
    assert follower.poll() == ["2|a|q|NONE|ABANDON|1|1|5"]
    follower.close()


def test_rotation_drains_the_old_file_then_reads_the_new_one(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_text("")
    follower = FileFollower(log)
    follower.poll()
    append(log, "1|before\n")
    # logrotate: rename, the PBX writes its last line to the old inode, then reopens a new file.
    os.rename(log, tmp_path / "queue_log.1")
    append(tmp_path / "queue_log.1", "2|late-in-old\n")
    assert follower.poll() == ["1|before", "2|late-in-old"]  # no new file yet
    log.write_text("3|in-new\n")
    assert follower.poll() == ["3|in-new"]
    append(log, "4|more\n")
    assert follower.poll() == ["4|more"]
    follower.close()


def test_truncation_restarts_from_the_top(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    log.write_text("")
    follower = FileFollower(log)
    follower.poll()
    append(log, "1|a\n2|b\n")
    assert follower.poll() == ["1|a", "2|b"]
    with open(log, "w") as handle:  # copytruncate
        handle.write("3|c\n")
    assert follower.poll() == ["3|c"]
    follower.close()


def test_missing_file_is_waited_for(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    follower = FileFollower(log)
    assert follower.poll() == []
    log.write_text("1|first\n")
    # A file that appears after we started holds only new lines: read it from its start.
    assert follower.poll() == ["1|first"]
    append(log, "2|second\n")
    assert follower.poll() == ["2|second"]
    follower.close()
