#!/usr/bin/env bash
# Fails when the package's targets depend on what they must not (docs/architecture.md):
#   - CSSSnapshots depends on nothing;
#   - CSSView and CSSTerminal never reach the simulator or BLAS (CSSCore, CBLAS, nor CSSImport
#     and CSSApp, which bring CSSCore), neither through Package.swift nor through an `import`;
#   - CSSApp never names the concrete backend (LocalBackend): it holds `any AnalysisBackend`;
#   - every `import` of one of the package's own modules is a declared (transitive) dependency,
#     since SwiftPM would otherwise let a module import whatever happens to be built already.
# Reads `swift package describe --type json`; prints one line per violation, exit 1 if any.
set -euo pipefail
cd "$(dirname "$0")/.."

json=$(swift package describe --type json 2>/dev/null) || {
  echo "check-architecture: swift package describe failed" >&2
  exit 2
}

python3 - "$json" <<'EOF'
import json, os, re, sys

pkg = json.loads(sys.argv[1])
targets = {t["name"]: t for t in pkg["targets"]}
deps = {n: set(t.get("target_dependencies") or []) for n, t in targets.items()}

def closure(name):
    seen, todo = set(), list(deps[name])
    while todo:
        d = todo.pop()
        if d not in seen:
            seen.add(d)
            todo.extend(deps.get(d, ()))
    return seen

forbidden = {
    "CSSSnapshots": set(targets) - {"CSSSnapshots"},
    "CSSView": {"CSSCore", "CBLAS", "CSSImport", "CSSApp", "CSSTerminal", "CNcurses"},
    "CSSTerminal": {"CSSCore", "CBLAS", "CSSImport", "CSSApp"},
}
problems = []
for name, banned in forbidden.items():
    if name not in targets:
        problems.append(f"{name}: no such target in Package.swift")
        continue
    reached = closure(name) & banned
    if reached:
        problems.append(f"{name} reaches {', '.join(sorted(reached))} (Package.swift); it may depend on "
                        + ("nothing" if name == "CSSSnapshots" else "CSSSnapshots (and CSSView, CNcurses for the terminal)"))

import_line = re.compile(r"^\s*(?:@_exported\s+|@testable\s+)?import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?(\w+)")
for name, t in targets.items():
    allowed = closure(name) | {name}
    root = t["path"]
    for dirpath, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".swift"):
                continue
            path = os.path.join(dirpath, f)
            with open(path, encoding="utf-8") as src:
                for number, line in enumerate(src, 1):
                    m = import_line.match(line)
                    if m and m.group(1) in targets and m.group(1) not in allowed:
                        problems.append(f"{path}:{number}: imports {m.group(1)}, which {name} does not depend on")

# The app holds the backend as a protocol (AnalysisBackend): naming the concrete actor would tie
# the debugger's host to the in-process simulator. Comments may mention it.
concrete = re.compile(r"\bLocalBackend\b")
app = targets.get("CSSApp")
if app:
    for dirpath, _, files in os.walk(app["path"]):
        for f in files:
            if f.endswith(".swift"):
                path = os.path.join(dirpath, f)
                with open(path, encoding="utf-8") as src:
                    for number, line in enumerate(src, 1):
                        code = line.split("//", 1)[0]
                        if concrete.search(code):
                            problems.append(f"{path}:{number}: CSSApp names LocalBackend; hold `any AnalysisBackend` (or `any TunableBackend`) instead")

for p in problems:
    print(f"check-architecture: {p}")
if problems:
    sys.exit(1)
print(f"check-architecture: ok ({len(targets)} targets; CSSView and CSSTerminal reach "
      f"{', '.join(sorted(closure('CSSTerminal') | closure('CSSView'))) or 'nothing'})")
EOF
