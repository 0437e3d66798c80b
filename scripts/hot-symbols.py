#!/usr/bin/env python3
"""Writes host/hot-symbols.txt: the functions of the warm path, in the order
they first run, for the linker to place side by side (see host/build.rs).

    python3 scripts/hot-symbols.py [BINARY]

BINARY is by default the release build, `cargo static build --release`
(target/HOST/release/secman).

Runs `--version`, `secret get`, `secret list` and `run` on a local store in
a throwaway home under valgrind's lackey tool, which prints the address of
every block of code it enters, and maps those addresses to the binary's
symbols. Needs valgrind. Rerun it, then build again, after any change to
the host's code or its dependencies, as the last step before a release:
the names carry hashes that such a change can alter (ThinLTO's `.llvm.N`
suffixes follow the code of their module). A name that no longer exists
is skipped by the linker, so a stale list costs speed, never correctness.
"""
import bisect
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "host" / "hot-symbols.txt"
COMMANDS = [
    ["--version"],
    ["secret", "get", "db"],
    ["secret", "list"],
    ["run", "--secret", "db", "--", "true"],
]


def functions(binary: str) -> tuple[list[int], list[tuple[int, int, str]]]:
    """The binary's functions as (start, size, name), sorted by address."""
    out = subprocess.run(
        ["nm", "-S", "--defined-only", binary], capture_output=True, text=True, check=True
    ).stdout
    found = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tTwW":
            found.append((int(parts[0], 16), int(parts[1], 16), parts[3]))
    found.sort()
    return [start for start, _, _ in found], found


def entry_point(binary: str) -> int:
    out = subprocess.run(["readelf", "-h", binary], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        if "Entry point address" in line:
            return int(line.split()[-1], 16)
    sys.exit(f"{binary}: no entry point in its ELF header")


def traced_blocks(binary: str, args: list[str], env: dict) -> list[int]:
    """The addresses of the code blocks entered while `binary args` runs."""
    with tempfile.NamedTemporaryFile(suffix=".lackey") as log:
        subprocess.run(
            ["valgrind", "--tool=lackey", "--trace-superblocks=yes", f"--log-file={log.name}",
             binary, *args],
            env=env, stdout=subprocess.DEVNULL, check=True,
        )
        return [int(line[3:], 16) for line in open(log.name) if line.startswith("SB ")]


def release_binary() -> str:
    """Where `cargo static build --release` puts secman."""
    out = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    host = next(line.split()[1] for line in out.splitlines() if line.startswith("host:"))
    return str(ROOT / "target" / host / "release" / "secman")


def main() -> None:
    binary = sys.argv[1] if len(sys.argv) > 1 else release_binary()
    starts, syms = functions(binary)
    entry = entry_point(binary)
    order, seen = [], set()
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, SECMAN_HOME=home, SECMAN_CACHE_DIR=f"{home}/cache")
        subprocess.run([binary, "secret", "register", "db", "username=admin", "password=hunter2"],
                       env=env, stdout=subprocess.DEVNULL, check=True)
        # Valgrind's CPU has other features than the real one, so the cached
        # component does not match it: compile it once for valgrind, untraced.
        subprocess.run(["valgrind", "--tool=none", "-q", binary, "secret", "get", "db"],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        for args in COMMANDS:
            blocks = traced_blocks(binary, args, env)
            # The first block of the binary itself is its entry point, `_start`:
            # the loader runs before it, from its own mapping far above.
            first = next((b for b in blocks if 0x100000 <= b < 0x4000000), None)
            if first is None:
                sys.exit(f"{binary}: no block in the trace lies where valgrind loads programs")
            base = first - entry
            if base % 4096:
                sys.exit(f"{binary}: found a load address {base:#x} that is not page-aligned")
            for block in blocks:
                at = block - base
                i = bisect.bisect_right(starts, at) - 1
                if i < 0:
                    continue
                start, size, name = syms[i]
                if at < start + max(size, 1) and name not in seen:
                    seen.add(name)
                    order.append(name)
    if "main" not in seen:
        sys.exit("the trace never reached `main`: the load address was not found")
    OUT.write_text(
        "# The warm path's functions in the order they first run, written by\n"
        "# scripts/hot-symbols.py; host/build.rs asks the linker to place them\n"
        "# first and side by side, so that a command faults in fewer pages.\n"
        + "\n".join(order) + "\n"
    )
    print(f"{OUT.relative_to(ROOT)}: {len(order)} functions")


if __name__ == "__main__":
    main()
