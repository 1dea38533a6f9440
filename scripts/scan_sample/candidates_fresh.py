#!/usr/bin/env python3
"""The second, blind sample: candidate positions (every whole-word keyword
hit, at most 3 per file) from a repository the first sample did not use,
apache/arrow at 515410b2a1 (`git archive` of the commit unpacked under
/tmp/i15-arrow), with languages the first sample lacked (Cython, MATLAB,
Protocol Buffers, Thrift, FlatBuffers, YAML, Meson, Batch, reStructuredText,
R Markdown, Jinja, text) and ones it had, from new code (C++, R, Ruby,
Python, CMake, shell). Deterministic: seed 1515. Output:
fresh_candidates.json, labelled into labels_fresh.json before any run."""
import json, random, subprocess
KW = ["TODO", "FIXME", "HACK", "XXX", "DEBT"]
ROOT = "/tmp/i15-arrow"
groups = [
    ("C++", ["*.cc", "*.cpp"], 24), ("C++ header", ["*.h"], 10), ("C", ["*.c"], 3),
    ("R", ["*.R"], 18), ("Ruby", ["*.rb"], 14), ("Python", ["*.py"], 12),
    ("Cython", ["*.pyx", "*.pxd", "*.pxi"], 12), ("MATLAB", ["matlab/**/*.m"], 3),
    ("Protocol Buffer", ["*.proto"], 2), ("Thrift", ["*.thrift"], 1), ("FlatBuffers", ["*.fbs"], 2),
    ("YAML", ["*.yml", "*.yaml"], 7), ("Meson", ["meson.build"], 2), ("Batchfile", ["*.bat"], 5),
    ("reStructuredText", ["*.rst"], 8), ("CMake", ["*.cmake", "CMakeLists.txt"], 9),
    ("Shell", ["*.sh"], 8), ("R Markdown", ["*.Rmd"], 2), ("Text", ["*.txt", "!CMakeLists.txt"], 4),
    ("TOML", ["*.toml"], 4), ("Markdown", ["*.md"], 4), ("Jinja", ["*.jinja*"], 1), ("in", ["*.in"], 2),
]
rng = random.Random(1515)
rows = []
for lang, globs, cap in groups:
    args = ["rg", "-n", "-w", "--no-heading", "-s"]
    for g in globs:
        args += ["-g", g]
    for k in KW:
        args += ["-e", k]
    out = subprocess.run(args + ["."], cwd=ROOT, capture_output=True, text=True, errors="replace").stdout
    hits = [l.split(":", 2) for l in out.splitlines() if l.count(":") >= 2]
    hits = sorted(h for h in hits if len(h[2]) < 400)
    byfile = {}
    for h in hits:
        byfile.setdefault(h[0], []).append(h)
    files = sorted(byfile)
    rng.shuffle(files)
    picked = []
    for f in files:
        picked += byfile[f][:3]
        if len(picked) >= cap:
            break
    for p, line, text in picked[:cap]:
        rows.append((lang, ROOT, p[2:] if p.startswith("./") else p, int(line), text))
with open("fresh_candidates.json", "w") as f:
    json.dump(rows, f, indent=0)
print(len(rows), "positions,", len({r[0] for r in rows}), "languages")
