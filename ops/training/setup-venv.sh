#!/usr/bin/env bash
# Creates (or reuses) <repo>/.venv-training with the pinned ops/training/requirements.txt.
# Idempotent: when every pinned version is already installed it only says so (well under a second).
# Wheels go through a local folder, ${PIP_WHEELHOUSE:-$HOME/.cache/pip/wheelhouse}, because the
# torch wheel is ~1 GB (+ CUDA libraries): CI should cache that folder, keyed on requirements.txt.
# Offline use: when the wheelhouse already holds everything, the download step may fail harmlessly.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$ROOT/.venv-training"
REQ="$HERE/requirements.txt"
WH="${PIP_WHEELHOUSE:-$HOME/.cache/pip/wheelhouse}"
PY="${PYTHON:-python3}"

# Exit 0 when every 'name==version' line of requirements.txt is installed in the venv (no imports).
satisfied() {
  [ -x "$VENV/bin/python" ] || return 1
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
  echo "setup-venv: $VENV already has the pinned requirements (nothing to do)"
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup-venv: creating $VENV with $($PY --version 2>&1)"
  if ! "$PY" -m venv "$VENV"; then
    rm -rf "$VENV"
    echo "setup-venv: '$PY -m venv' failed; on Debian/Ubuntu install python3-venv (apt-get install python3-venv)" >&2
    exit 1
  fi
fi
mkdir -p "$WH"
echo "setup-venv: fetching missing wheels into $WH"
if ! "$VENV/bin/pip" download -q --disable-pip-version-check -d "$WH" -r "$REQ"; then
  echo "setup-venv: download failed; trying the wheelhouse as it is" >&2
fi
echo "setup-venv: installing from $WH (no index)"
"$VENV/bin/pip" install -q --disable-pip-version-check --no-index --find-links "$WH" -r "$REQ"
satisfied
echo "setup-venv: done; python is $VENV/bin/python"
