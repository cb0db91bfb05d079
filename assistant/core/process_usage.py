"""What a process and the processes it started cost right now, read from Linux's /proc.

A process group started with its own session (`start_new_session=True`) is counted whole: the
ingest worker and the tesseract processes its OCR runs, which a limit on the worker alone misses.
"""
import os
from dataclasses import dataclass
from pathlib import Path

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    rss_mb: float
    cpu_seconds: float


def _stat_fields(pid_dir: Path) -> list[str] | None:
    try:
        raw = (pid_dir / "stat").read_text()
    except OSError:  # gone between listing and reading
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    return raw[raw.rindex(")") + 2:].split()


def _rss_pages(pid_dir: Path) -> int:
    try:
        return int((pid_dir / "statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def session_usage(leader: int) -> Usage:
    """RSS of every live process in `leader`'s session, and their CPU time plus that of the
    children they have already waited for."""
    pages, ticks = 0, 0
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit():
            continue
        fields = _stat_fields(pid_dir)
        # after the command: state(0) ppid(1) pgrp(2) session(3) … utime(11) stime(12) cutime(13) cstime(14)
        if fields is None or int(fields[3]) != leader or fields[0] == "Z":
            continue
        pages += _rss_pages(pid_dir)
        ticks += int(fields[11]) + int(fields[12])
        if int(pid_dir.name) == leader:
            ticks += int(fields[13]) + int(fields[14])
    return Usage(rss_mb=pages * PAGE_BYTES / 2**20, cpu_seconds=ticks / TICKS)
