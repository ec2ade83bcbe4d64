#!/usr/bin/env bash
# Idempotent: creates /work/main/.venv-vw (or $VW_VENV) with Vowpal Wabbit from PyPI, pinned.
# Used by bench:slates (the VW CCB peer) and the slates VW spec.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
VENV="${VW_VENV:-$ROOT/.venv-vw}"
PY="${PYTHON:-/root/.pyenv/versions/3.10.13/bin/python3.10}"
[ -x "$PY" ] || PY=python3
VW_VERSION=9.10.0
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import vowpalwabbit, sys; sys.exit(0 if vowpalwabbit.__version__ == '$VW_VERSION' else 1)" 2>/dev/null; then
  exit 0
fi
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "vowpalwabbit==$VW_VERSION" "numpy==1.26.4"
"$VENV/bin/python" -c "import vowpalwabbit; print('vowpalwabbit', vowpalwabbit.__version__)"
