"""What a process and every process below it hold, read from /proc (Linux, as a camera box and CI are): resident
memory, open file descriptors and threads. /proc rather than psutil, which the project does not depend on."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class TreeFigures:
    processes: int
    rss_mb: float
    fds: int
    threads: int


def descendants(pid: int) -> list[int]:
    """`pid` and every living process below it."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended while we looked
        # The command name, in brackets, may hold spaces: the parent's pid is the second field after it.
        parent = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue += children.get(current, [])
    return found


def tree_figures(pid: int) -> TreeFigures:
    """The sums over `pid` and its descendants; processes that end while they are read are left out."""
    processes, rss_kb, fds, threads = 0, 0, 0, 0
    for member in descendants(pid):
        try:
            status = dict(line.split(":", 1) for line in (PROC / str(member) / "status").read_text().splitlines())
            member_fds = len(os.listdir(PROC / str(member) / "fd"))
        except (OSError, ValueError):
            continue
        processes += 1
        rss_kb += int(status.get("VmRSS", "0 kB").split()[0])
        threads += int(status["Threads"])
        fds += member_fds
    return TreeFigures(processes, round(rss_kb / 1024, 1), fds, threads)
