"""Reference values from Open Bandit Pipeline (obp 0.5.7) for the libs/ope parity spec.

Usage: obp_ref.py --check                  (imports obp, prints its version)
       obp_ref.py < cases.json > out.json   (see libs/ope/src/obp-parity.spec.ts for the format)
"""
import json
import sys
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import obp_stub  # noqa: E402

obp_stub.install()
import numpy as np  # noqa: E402
import obp  # noqa: E402
from obp.ope import (  # noqa: E402
    DirectMethod,
    InverseProbabilityWeighting,
    SelfNormalizedInverseProbabilityWeighting,
    DoublyRobust,
    SelfNormalizedDoublyRobust,
    SwitchDoublyRobust,
    DoublyRobustWithShrinkage,
    SlateIndependentIPS,
    SlateRewardInteractionIPS,
)


def standard_case(c):
    n = len(c['reward'])
    reward = np.asarray(c['reward'], dtype=float)
    action = np.asarray(c['action'], dtype=int)
    pscore = np.asarray(c['pscore'], dtype=float)
    position = np.asarray(c['position'], dtype=int)
    shape = (n, c['nActions'], c['lenList'])
    action_dist = np.asarray(c['actionDist'], dtype=float).reshape(shape)
    q_hat = np.asarray(c['qHat'], dtype=float).reshape(shape)
    boot = c.get('bootstrap', {'n': 200, 'seed': 12345, 'alpha': 0.05})
    out = {}
    ests = {
        'dm': (DirectMethod(), False),
        'ips': (InverseProbabilityWeighting(), False),
        'clipped_ips': (InverseProbabilityWeighting(lambda_=c['clipLambda'], estimator_name='cipw'), False),
        'snips': (SelfNormalizedInverseProbabilityWeighting(), False),
        'dr': (DoublyRobust(), True),
        'sndr': (SelfNormalizedDoublyRobust(), True),
        'switch_dr': (SwitchDoublyRobust(lambda_=c['switchLambda']), True),
        'dros': (DoublyRobustWithShrinkage(lambda_=c['drosLambda']), True),
    }
    for name, (est, _) in ests.items():
        kw = dict(reward=reward, action=action, pscore=pscore, action_dist=action_dist, position=position,
                  estimated_rewards_by_reg_model=q_hat)
        if name == 'dm':
            kw = dict(action_dist=action_dist, position=position, estimated_rewards_by_reg_model=q_hat)
        elif name in ('ips', 'clipped_ips', 'snips'):
            kw.pop('estimated_rewards_by_reg_model')
        value = est.estimate_policy_value(**kw)
        rr = est._estimate_round_rewards(**kw)
        ci = est.estimate_interval(**kw, alpha=boot['alpha'], n_bootstrap_samples=boot['n'], random_state=boot['seed'])
        keys = list(ci.keys())
        out[name] = {'value': float(value), 'contributions': [float(x) for x in rr],
                     'bootstrap': {'mean': float(ci['mean']), 'lower': float(ci[keys[1]]), 'upper': float(ci[keys[2]])}}
    return out


def slate_case(c):
    slate_id = np.asarray(c['slateId'], dtype=int)
    reward = np.asarray(c['reward'], dtype=float)
    position = np.asarray(c['position'], dtype=int)
    len_list = int(c['lenList'])
    boot = c.get('bootstrap', {'n': 200, 'seed': 12345, 'alpha': 0.05})
    out = {}
    iips = SlateIndependentIPS(len_list=len_list)
    kw = dict(slate_id=slate_id, reward=reward, position=position,
              pscore_item_position=np.asarray(c['pscoreItemPosition'], dtype=float),
              evaluation_policy_pscore_item_position=np.asarray(c['evalPscoreItemPosition'], dtype=float))
    out['iips'] = {'value': float(iips.estimate_policy_value(**kw))}
    ci = iips.estimate_interval(**kw, alpha=boot['alpha'], n_bootstrap_samples=boot['n'], random_state=boot['seed'])
    keys = list(ci.keys())
    out['iips']['bootstrap'] = {'mean': float(ci['mean']), 'lower': float(ci[keys[1]]), 'upper': float(ci[keys[2]])}
    rips = SlateRewardInteractionIPS(len_list=len_list)
    kw = dict(slate_id=slate_id, reward=reward, position=position,
              pscore_cascade=np.asarray(c['pscoreCascade'], dtype=float),
              evaluation_policy_pscore_cascade=np.asarray(c['evalPscoreCascade'], dtype=float))
    out['rips'] = {'value': float(rips.estimate_policy_value(**kw))}
    ci = rips.estimate_interval(**kw, alpha=boot['alpha'], n_bootstrap_samples=boot['n'], random_state=boot['seed'])
    keys = list(ci.keys())
    out['rips']['bootstrap'] = {'mean': float(ci['mean']), 'lower': float(ci[keys[1]]), 'upper': float(ci[keys[2]])}
    return out


def main():
    if '--check' in sys.argv:
        print(f'obp {obp.__version__} on numpy {np.__version__}')
        return
    req = json.load(sys.stdin)
    res = {'obpVersion': obp.__version__, 'standard': [standard_case(c) for c in req.get('standard', [])],
           'slate': [slate_case(c) for c in req.get('slate', [])]}
    if 'mt' in req:
        rs = np.random.RandomState(req['mt']['seed'])
        res['mt'] = {'uint32': [int(x) for x in rs.randint(0, 2**32, size=req['mt']['n'], dtype=np.uint64)]}
        rs = np.random.RandomState(req['mt']['seed'])
        res['mt']['choice'] = [int(x) for x in rs.choice(np.arange(req['mt']['pop']), size=req['mt']['n'])]
    json.dump(res, sys.stdout)


if __name__ == '__main__':
    main()
