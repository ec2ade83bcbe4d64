"""Vowpal Wabbit conditional contextual bandit (CCB) driver for bench:slates.

Reads one JSON object per line on stdin and answers one line per request on stdout:
  {"fb": [click per slot of the previous request] | null, "c": context, "a": [[item, group, ranker_logit], ...], "k": slots}
  -> [[chosen action index, probability], ...] per slot
The feedback of request t arrives with request t+1 (one round trip per request); a final
{"fb": [...], "end": true} line learns the last one and exits. Features: shared |U c=<context>;
action |A i=<item> g=<group> and |R s:<ranker logit>; -q UA (context x item); slots: VW's own slot ids.
Cost: -1 for a click, 0 otherwise (VW minimises cost).
"""
import json
import sys

import vowpalwabbit

variant = sys.argv[1]
seed = int(sys.argv[2])
args = "--ccb_explore_adf --quiet -q UA --random_seed %d" % seed
if variant == "squarecb":
    args += " --squarecb"
vw = vowpalwabbit.Workspace(args)

last = None
out = sys.stdout
for line in sys.stdin:
    msg = json.loads(line)
    fb = msg.get("fb")
    if fb is not None and last is not None:
        shared, actions, chosen = last
        slots = ["ccb slot %d:%d:%.6f |" % (a, -1 if fb[s] else 0, p) for s, (a, p) in enumerate(chosen)]
        vw.learn([shared] + actions + slots)
    if msg.get("end"):
        break
    shared = "ccb shared |U c=%s" % msg["c"]
    actions = ["ccb action |A i=%s g=%s |R s:%.4f" % (a[0], a[1], a[2]) for a in msg["a"]]
    slots = ["ccb slot |" for _ in range(msg["k"])]
    pred = vw.predict([shared] + actions + slots)
    chosen = [(p[0][0], p[0][1]) for p in pred]
    last = (shared, actions, chosen)
    out.write(json.dumps([[a, round(p, 6)] for a, p in chosen]) + "\n")
    out.flush()
vw.finish()
