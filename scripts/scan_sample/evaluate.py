#!/usr/bin/env python3
"""Precision and recall of `paydown scan` on the hand-labelled sample.

Usage: scripts/scan_sample/evaluate.py PAYDOWN_BINARY [labels.json]

labels.json lists positions (root, path, line) with a label decided by
reading the code, by the SPEC §1 rule, before any scanner ran on them. The
sources stay outside this repository, where candidates.py found them: the
cargo registry (crates at the versions in the paths), npm tarballs unpacked
under /tmp/i15/sample/npm (`npm pack bootstrap@5.3.3 rxjs@7.8.1 vue@3.4.21
lodash@4.17.21 typescript-eslint@8.0.0 less@4.2.0`), the Python
site-packages and Debian Perl modules of the machine, and the `samples/`
directory of github-linguist/linguist. Positions whose file is missing are
reported and left out.

The scan runs with vendored and generated skipping off: the sample measures
which comments are read as annotations, not the skip policy.
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

CONFIG = "paths:\n  skip_vendored: false\n  skip_generated: false\n  max_file_bytes: 20000000\n"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    labels = json.load(open(sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "labels.json")))
    by_root = collections.defaultdict(set)
    missing = 0
    for pos in labels:
        if os.path.exists(os.path.join(pos["root"], pos["path"])):
            by_root[pos["root"]].add(pos["path"])
        else:
            missing += 1
    found = set()
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as cfg:
        cfg.write(CONFIG)
    for root, paths in by_root.items():
        paths = sorted(paths)
        for i in range(0, len(paths), 200):
            chunk = paths[i:i + 200]
            out = subprocess.run(
                [binary, "scan", "--quiet", "--format", "json", "--config", cfg.name] + chunk,
                cwd=root, capture_output=True, text=True, check=True).stdout
            for a in json.loads(out)["annotations"]:
                found.add((root, a["path"], a["line"]))
    tp = fp = fn = tn = 0
    misses, false_positives = [], []
    per_lang = collections.defaultdict(lambda: [0, 0])
    for pos in labels:
        if not os.path.exists(os.path.join(pos["root"], pos["path"])):
            continue
        hit = (pos["root"], pos["path"], pos["line"]) in found
        want = pos["annotation"]
        per_lang[pos["language"]][0] += 1
        if hit and want:
            tp += 1
        elif hit:
            fp += 1
            false_positives.append(pos)
        elif want:
            fn += 1
            misses.append(pos)
            per_lang[pos["language"]][1] += 1
        else:
            tn += 1
    n = tp + fp + fn + tn
    print(f"positions: {n} ({tp + fn} annotations, {fp + tn} near-misses), missing files: {missing}")
    print(f"languages: {len(per_lang)}")
    print(f"precision: {tp / max(tp + fp, 1):.3f} ({tp} of {tp + fp} reported)")
    print(f"recall:    {tp / max(tp + fn, 1):.3f} ({tp} of {tp + fn} annotations)")
    for title, rows in (("false positives", false_positives), ("misses", misses)):
        print(f"{title}:")
        for p in rows:
            print(f"  [{p['language']}] {p['path']}:{p['line']}")


if __name__ == "__main__":
    main()
