#!/usr/bin/env python3
"""Benchmark `paydown scan` against ripgrep on the same tree, in the same run.

Usage: scripts/bench_scan.py [PATH] [--rounds N] [--binary PAYDOWN] [--baseline PAYDOWN]

PATH defaults to this machine's Python standard library. Three commands run
alternately, after one warm-up round each (so all read from the page
cache): paydown, ripgrep's regex search for the keywords, and ripgrep's
literal count of the five keywords (`rg -c -F`), which is about the cost of
reading the tree. The script prints each median wall time, paydown's ratio
to each reference, and paydown's peak resident set size. Targets: ratio to
the regex search <= 1.2, to the literal search <= 1.0, peak RSS <= 50 MB.
--binary benchmarks a given paydown build instead of building this
checkout; --baseline adds another build (say, the one before a change) to
the same interleaved rounds, so both are compared under the same load.

It also says how each tool lists the tree: in a git work tree paydown scans
what `git ls-files` lists (tracked files, and untracked ones not ignored),
ripgrep walks it and skips what `.gitignore` ignores (and hidden files);
outside git, or where git lists nothing (a directory the repository
ignores), both walk it with `.gitignore` applied.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ensure_ripgrep():
    if shutil.which("rg"):
        return "rg"
    print("ripgrep not found; installing it (apt-get install ripgrep)", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-qq", "ripgrep"], check=False,
                   stdout=subprocess.DEVNULL)
    if not shutil.which("rg"):
        subprocess.run(["cargo", "install", "--locked", "ripgrep"], check=True)
    return shutil.which("rg") or os.path.expanduser("~/.cargo/bin/rg")


def run_once(cmd):
    """Wall time in seconds and peak RSS in KiB of one run of cmd."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    # rg exits 1 when nothing matched; paydown 0. Anything else is a failure.
    if code not in (0, 1):
        sys.exit(f"{cmd[0]} failed with exit code {code}")
    return wall, usage.ru_maxrss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--binary")
    parser.add_argument("--baseline")
    args = parser.parse_args()

    paydown = args.binary
    if not paydown:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "paydown"],
                       cwd=ROOT, check=True)
        target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
        paydown = os.path.join(target, "release", "paydown")
    rg = ensure_ripgrep()
    rg_version = subprocess.run([rg, "--version"], capture_output=True, text=True).stdout
    # paydown takes git's list where git lists something (a directory
    # inside a work tree that the repository ignores is walked instead).
    listed = subprocess.run(["git", "-C", args.path, "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], capture_output=True)
    in_git = listed.returncode == 0 and bool(listed.stdout)
    keywords = ["TODO", "FIXME", "HACK", "XXX", "DEBT"]
    literal = [rg, "-c", "-F"] + [a for k in keywords for a in ("-e", k)] + [args.path]
    tools = {
        "paydown": [paydown, "scan", "--quiet", "--format", "json", args.path],
        "ripgrep": [rg, r"\b(TODO|FIXME|HACK|XXX|DEBT)\b", args.path],
        "literal": literal,
    }
    if args.baseline:
        tools["baseline"] = [args.baseline, "scan", "--quiet", "--format", "json", args.path]
    for cmd in tools.values():
        run_once(cmd)  # warm the page cache
    times = {name: [] for name in tools}
    rss = []
    for _ in range(args.rounds):
        for name, cmd in tools.items():
            wall, peak = run_once(cmd)
            times[name].append(wall)
            if name == "paydown":
                rss.append(peak)
    count = subprocess.run(tools["paydown"], capture_output=True, text=True).stdout.count('"keyword"')
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"tree: {args.path} ({args.rounds} rounds, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f})")
    print("listing: " + ("git work tree (paydown: git ls-files; ripgrep: walk with .gitignore)"
                         if in_git else "no git list (both walk with .gitignore)"))
    print(f"ripgrep: {rg_version.splitlines()[0] if rg_version else rg}")
    print(f"paydown scan --format json: median {med['paydown'] * 1000:.0f} ms, {count} annotations")
    print(f"rg '\\b(TODO|FIXME|HACK|XXX|DEBT)\\b': median {med['ripgrep'] * 1000:.0f} ms")
    print(f"rg -c -F (five literals): median {med['literal'] * 1000:.0f} ms")
    print(f"ratio paydown/ripgrep: {med['paydown'] / med['ripgrep']:.2f} (target <= 1.20)")
    print(f"ratio paydown/rg -c -F: {med['paydown'] / med['literal']:.2f} (target <= 1.00)")
    print(f"paydown peak RSS: {max(rss) / 1024:.1f} MB (target <= 50 MB)")
    if args.baseline:
        print(f"baseline {args.baseline}: median {med['baseline'] * 1000:.0f} ms, "
              f"ratio to rg -c -F {med['baseline'] / med['literal']:.2f}, "
              f"to ripgrep {med['baseline'] / med['ripgrep']:.2f}")


if __name__ == "__main__":
    main()
