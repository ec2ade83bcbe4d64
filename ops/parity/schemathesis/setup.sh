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

# shellcheck source=../pins.sh
source "$HERE/../pins.sh"
satisfied() { pins_satisfied "$VENV" "$REQ" && [ -x "$VENV/bin/st" ]; }

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
