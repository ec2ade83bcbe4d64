#!/usr/bin/env bash
# Idempotent: creates /work/main/.venv-gbstats (repo root/.venv-gbstats) with GrowthBook's stats
# engine gbstats 0.8.0 from PyPI, the reference of libs/experiments' parity spec.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
VENV="$ROOT/.venv-gbstats"
PY="${GBSTATS_PYTHON:-/root/.pyenv/versions/3.10.13/bin/python3.10}"
[ -x "$PY" ] || PY="$(command -v python3)"
PIN="gbstats==0.8.0"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import gbstats, importlib.metadata as m; assert m.version("gbstats") == "0.8.0"' 2>/dev/null; then
  echo "gbstats venv ready: $VENV"
  exit 0
fi
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "$PIN"
"$VENV/bin/python" -c 'import gbstats, importlib.metadata as m; print("gbstats", m.version("gbstats"), "in", "'"$VENV"'")'
