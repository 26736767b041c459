#!/usr/bin/env bash
# Static checks of the Nix side that run without a Nix store or network:
#   1. every .nix file parses (nix-instantiate --parse, Debian's nix-bin)
#   2. every .nix file is formatted (nixfmt --check; nixfmt_rs gives
#      byte-identical output to nixpkgs' nixfmt)
#   3. flake.lock is a version-7 lock whose nixpkgs node pins nixos-26.05
#      to a full revision with a narHash
# Installs nothing. Ends with "N passed, M failed"; exits 1 on any failure.
set -u

cd "$(dirname "$0")/.." || exit 2

missing=0
for tool in nix-instantiate nixfmt python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "nix-check: '$tool' not found." >&2
    missing=1
  fi
done
if [ "$missing" -ne 0 ]; then
  cat >&2 <<'EOF'
nix-check: install the tools first, e.g.
  apt-get install -y nix-bin python3
  cargo install nixfmt_rs --version 0.5.3 --locked   # provides `nixfmt`
EOF
  exit 2
fi

passed=0
failed=0
pass() {
  echo "PASS $1"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL $1"
  [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/     /'
  failed=$((failed + 1))
}

# Tracked and new (not ignored) files; plain find outside a git checkout.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.nix' | sort -u)
else
  mapfile -t files < <(find . -name '*.nix' -not -path './target/*' -not -path './.git/*' | sed 's|^\./||' | sort)
fi

if [ "${#files[@]}" -eq 0 ]; then
  fail "found .nix files" "none found"
fi

for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  if out=$(nix-instantiate --parse "$f" 2>&1 >/dev/null); then
    pass "parse $f"
  else
    fail "parse $f" "$out"
  fi
  if out=$(nixfmt --check "$f" 2>&1); then
    pass "format $f"
  else
    fail "format $f" "$out (run: nixfmt $f)"
  fi
done

if out=$(python3 - flake.lock 2>&1 <<'EOF'
import json
import re
import sys

with open(sys.argv[1]) as f:
    lock = json.load(f)

problems = []
if lock.get("version") != 7:
    problems.append("version is not 7")
root = lock.get("root")
nodes = lock.get("nodes")
if not isinstance(root, str) or not isinstance(nodes, dict) or root not in nodes:
    sys.exit("no 'nodes' object containing the 'root' node")

inputs = nodes[root].get("inputs", {})
for name, target in inputs.items():
    if isinstance(target, str) and target not in nodes:
        problems.append(f"root input {name} points to missing node {target}")

for name, node in nodes.items():
    if name == root:
        continue
    locked, original = node.get("locked"), node.get("original")
    if not isinstance(locked, dict) or not isinstance(original, dict):
        problems.append(f"{name}: needs 'locked' and 'original'")
        continue
    if locked.get("type") == "github":
        for key in ("owner", "repo", "rev", "narHash", "lastModified"):
            if key not in locked:
                problems.append(f"{name}: locked.{key} missing")
        if not re.fullmatch(r"[0-9a-f]{40}", str(locked.get("rev", ""))):
            problems.append(f"{name}: locked.rev is not a 40-hex revision")
        if not re.fullmatch(r"sha256-[A-Za-z0-9+/]{43}=", str(locked.get("narHash", ""))):
            problems.append(f"{name}: locked.narHash is not an SRI sha256")
        if not isinstance(locked.get("lastModified"), int):
            problems.append(f"{name}: locked.lastModified is not an integer")

nixpkgs = nodes.get(inputs.get("nixpkgs", ""), {})
if nixpkgs.get("original", {}).get("ref") != "nixos-26.05":
    problems.append("nixpkgs does not follow nixos-26.05")

if problems:
    sys.exit("\n".join(problems))
EOF
); then
  pass "flake.lock"
else
  fail "flake.lock" "$out"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
