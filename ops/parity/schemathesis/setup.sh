#!/usr/bin/env bash
# Creates (or reuses) <repo>/.venv-schemathesis with the pinned requirements.txt (schemathesis and
# its dependencies, from PyPI). Idempotent: when every pinned version is installed it only says so.
# Used by test/e2e/schemathesis.spec.ts and `npm run check:openapi`.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
VENV="$ROOT/.venv-schemathesis"
REQ="$HERE/requirements.txt"
PY="${PYTHON:-python3}"

satisfied() {
  [ -x "$VENV/bin/python" ] && [ -x "$VENV/bin/st" ] || return 1
  "$VENV/bin/python" - "$REQ" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version, PackageNotFoundError
bad = []
for line in open(sys.argv[1]):
    line = line.split('#', 1)[0].strip()
    if not line:
        continue
    name, want = line.split('==')
    try:
        have = version(name)
    except PackageNotFoundError:
        have = None
    if have != want:
        bad.append(f'{name}: have {have}, want {want}')
if bad:
    print('\n'.join(bad), file=sys.stderr)
    sys.exit(1)
PY
}

if satisfied; then
  echo "schemathesis setup: $VENV already has the pinned requirements (nothing to do)"
  exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "schemathesis setup: creating $VENV with $($PY --version 2>&1)"
  if ! "$PY" -m venv "$VENV"; then
    rm -rf "$VENV"
    echo "schemathesis setup: '$PY -m venv' failed; on Debian/Ubuntu install python3-venv" >&2
    exit 1
  fi
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
satisfied
echo "schemathesis setup: done; $("$VENV/bin/st" --version)"
