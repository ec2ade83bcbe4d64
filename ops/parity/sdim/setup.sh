#!/usr/bin/env bash
# Creates (or reuses) <repo>/.venv-sdim: numpy (OpenBLAS wheels) and threadpoolctl, pinned, for
# bench:sdim's numpy cross-check of target attention and libs/sdim's attention parity spec
# (libs/sdim/src/kernels/attention.parity.spec.ts). Python: $PYTHON, else python3 (3.11).
# Idempotent: when every pin of requirements.txt is installed it only says so.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
VENV="$ROOT/.venv-sdim"
REQ="$HERE/requirements.txt"
PY="${PYTHON:-python3}"

# shellcheck source=../pins.sh
source "$HERE/../pins.sh"
satisfied() { pins_satisfied "$VENV" "$REQ"; }

if satisfied; then
  echo "sdim setup: $VENV already has the pinned requirements (nothing to do)"
  exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "sdim setup: creating $VENV with $("$PY" --version 2>&1)"
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
OPENBLAS_NUM_THREADS=1 "$VENV/bin/python" "$HERE/attention_ref.py" --check
satisfied
echo "sdim setup: done; python is $VENV/bin/python"
