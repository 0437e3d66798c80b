#!/usr/bin/env python3
"""Times commands interleaved, so that each sees the same machine.

    python3 scripts/interleave.py RUNS "CMD ARGS..." "CMD ARGS..." ...

Each program is first dropped from the page cache and read back whole, so
that all are cached alike: the same binary runs up to a quarter slower
when it sits in the page cache as the linker wrote it than after a
sequential read. Each round then runs every command once (posix_spawn from this small parent,
stdout to /dev/null, then waitpid), after three rounds that warm the page
cache, and prints each command's median, 10th and 90th percentile wall
time. Commands are split like a shell would split them, without a shell.
"""
import os
import shlex
import shutil
import statistics
import sys
import time


def settle(program: str) -> None:
    """Drops `program` from the page cache and reads it back whole."""
    with open(program, "rb") as file:
        os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        while file.read(1 << 20):
            pass


def main() -> None:
    runs = int(sys.argv[1])
    commands = [shlex.split(command) for command in sys.argv[2:]]
    devnull = os.open(os.devnull, os.O_WRONLY)
    for program in {shutil.which(command[0]) for command in commands}:
        settle(program)
    times: list[list[float]] = [[] for _ in commands]
    for round_ in range(runs + 3):
        for command, samples in zip(commands, times):
            start = time.perf_counter()
            pid = os.posix_spawnp(
                command[0],
                command,
                os.environ,
                file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)],
            )
            _, status = os.waitpid(pid, 0)
            elapsed = (time.perf_counter() - start) * 1000
            if status != 0:
                sys.exit(f"{shlex.join(command)} failed (wait status {status})")
            if round_ >= 3:
                samples.append(elapsed)
    for command, samples in zip(sys.argv[2:], times):
        samples.sort()
        print(
            f"{statistics.median(samples):7.3f} ms  p10 {samples[len(samples) // 10]:.3f}"
            f"  p90 {samples[len(samples) * 9 // 10]:.3f}  {command}"
        )


if __name__ == "__main__":
    main()
