#!/usr/bin/env bash
# Creates (or reuses) <repo>/.venv-obp: Open Bandit Pipeline (obp 0.5.7, PyPI) for the libs/ope parity
# spec and bench:ope. obp declares python_requires < 3.11, so the venv uses Python 3.10 (pyenv's
# 3.10.13 when present, else $PYTHON, else python3.10 on PATH). Idempotent: when every pin of
# requirements.txt is installed it only says so. obp goes in with --no-deps (see requirements.txt).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
VENV="$ROOT/.venv-obp"
REQ="$HERE/requirements.txt"
if [ -n "${PYTHON:-}" ]; then PY="$PYTHON"
elif [ -x /root/.pyenv/versions/3.10.13/bin/python3.10 ]; then PY=/root/.pyenv/versions/3.10.13/bin/python3.10
else PY=python3.10; fi

# shellcheck source=../pins.sh
source "$HERE/../pins.sh"
satisfied() { pins_satisfied "$VENV" "$REQ"; }

if satisfied; then
  echo "obp setup: $VENV already has the pinned requirements (nothing to do)"
  exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "obp setup: creating $VENV with $("$PY" --version 2>&1)"
  "$PY" -m venv "$VENV"
fi
# Everything but obp with its own dependencies, then obp alone (no torch).
grep -v '^obp==' "$REQ" > "$VENV/requirements-deps.txt"
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$VENV/requirements-deps.txt"
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps "$(grep '^obp==' "$REQ")"
"$VENV/bin/python" "$HERE/obp_ref.py" --check
satisfied
echo "obp setup: done; python is $VENV/bin/python"
