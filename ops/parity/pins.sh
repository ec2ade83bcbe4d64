# Sourced by the ops/parity/*/setup.sh scripts (not a setup of its own: no setup.sh here).
# pins_satisfied VENV REQ: true when VENV's python has exactly every `name==version` pin of REQ;
# prints what differs otherwise.
pins_satisfied() {
  [ -x "$1/bin/python" ] || return 1
  "$1/bin/python" - "$2" <<'PY' 2>/dev/null
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
