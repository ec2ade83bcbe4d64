#!/usr/bin/env bash
# Rebuilds the demo ranking model shipped with `npm start` (apps/suite/demo-model): the project's
# training CLI (ops/training, AdaptDHM with the SDIM interest feature) on MovieLens-100K, seed 0,
# then the catalog it was trained with and the demo users' clicks, gzipped.
#   bash apps/suite/demo-model/build.sh [path/to/ml-100k]   (default ../shared/data/ml-100k)
# Needs the training venv: bash ops/training/setup-venv.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
data="${1:-$root/../shared/data/ml-100k}"
py="${TRAINING_PYTHON:-$root/.venv-training/bin/python}"
epochs="${DEMO_EPOCHS:-2}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"
nice -n 10 "$py" -m ops.training.train --data "$data" --model adaptdhm --epochs "$epochs" --seed 0 --out "$work/out"
cp "$work/out/model.onnx" "$work/out/feature-spec.json" "$work/out/metrics.json" "$here/"
python3 - "$work/out/catalog.jsonl" "$data/u.data" "$here" "$epochs" <<'PY'
import gzip, json, sys
catalog, ratings, out, epochs = sys.argv[1:5]
with open(catalog) as f, gzip.GzipFile(f"{out}/catalog.jsonl.gz", "wb", mtime=0) as g:
    for line in f:
        e = json.loads(line)
        genres = (e.get("attributes") or {}).get("genres") or ["unknown"]
        e["group"] = genres[0]
        e["timestamp"] = 0
        g.write((json.dumps(e, separators=(",", ":")) + "\n").encode())
# demo-user-i = MovieLens user i+1; a rating >= 4 is a click (as the training pipeline reads it).
rows = []
with open(ratings) as f:
    for line in f:
        u, i, r, t = line.split("\t")
        u = int(u)
        if u <= 20 and int(r) >= 4:
            rows.append((u, int(t), i))
rows.sort()
with gzip.GzipFile(f"{out}/clicks.jsonl.gz", "wb", mtime=0) as g:
    for u, t, i in rows:
        user = f"demo-user-{u - 1}"
        e = {"eventId": f"demo-click-{u}-{i}-{t}", "key": user, "timestamp": t * 1000, "schemaVersion": 1, "userId": user, "itemId": i, "type": "click"}
        g.write((json.dumps(e, separators=(",", ":")) + "\n").encode())
json.dump({"version": f"demo-ml100k-adaptdhm-e{epochs}-s0", "command": f"bash apps/suite/demo-model/build.sh (ops.training.train --model adaptdhm --epochs {epochs} --seed 0 on ml-100k)"}, open(f"{out}/VERSION.json", "w"), indent=1)
print(f"catalog + {len(rows)} demo clicks written to {out}")
PY
ls -la "$here"
