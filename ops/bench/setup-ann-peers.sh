#!/usr/bin/env bash
# The Python peers of bench:ann and bench:ann:spann in their venvs, from pinned PyPI requirements.
# Idempotent: a venv whose pins are all installed is left alone. Not run by CI (the benchmarks are
# not part of the test run, and faiss/ScaNN/DiskANN wheels are large).
#   bench/.venv        <- bench/ann/requirements.txt       (hnswlib, faiss-cpu, usearch, ScaNN)
#   bench/.venv-spann  <- bench/ann/spann_requirements.txt (diskannpy, faiss-cpu)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
PY="${PYTHON:-python3}"

setup() {
  local venv="$root/$1" req="$root/$2"
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" - "$req" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
ok = True
for line in open(sys.argv[1]):
    line = line.split('#')[0].strip()
    if not line: continue
    name, pin = line.split('==')
    try: ok &= version(name) == pin
    except PackageNotFoundError: ok = False
sys.exit(0 if ok else 1)
PY
  then
    echo "ann peers: $1 already has the pins of $2"
    return
  fi
  echo "ann peers: creating $1 from $2"
  "$PY" -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -r "$req"
}

setup bench/.venv bench/ann/requirements.txt
setup bench/.venv-spann bench/ann/spann_requirements.txt
