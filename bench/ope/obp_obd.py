"""obp's own off-policy evaluation of Bernoulli TS (ZOZOTOWN prior) on the Open Bandit Dataset
random-policy logs, for bench:ope (bench/ope/bench-ope.ts) to compare with libs/ope.

Reads a JSON request on stdin, writes JSON on stdout. For each campaign:
  - `obp`: obp's pipeline as its OBD examples run it: OpenBanditDataset loader, BernoulliTS
    (is_zozotown_prior=True) compute_batch_action_dist (Monte Carlo, n_sim), RegressionModel with
    LogisticRegression (3-fold cross-fitting) for q-hat, OffPolicyEvaluation with every estimator,
    bootstrap intervals;
  - `onOurInputs`: obp's estimators on the arrays, action distribution and q-hat that libs/ope used
    (the same logs and inputs: equal values show the two implementations agree on real data).
Runs in .venv-obp (ops/parity/obp/setup.sh).
"""
import json
import os
import sys
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'ops', 'parity', 'obp'))
import obp_stub  # noqa: E402

obp_stub.install()
import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from obp.dataset import OpenBanditDataset  # noqa: E402
from obp.policy import BernoulliTS  # noqa: E402
from obp.ope import (  # noqa: E402
    OffPolicyEvaluation, RegressionModel, DirectMethod, InverseProbabilityWeighting,
    SelfNormalizedInverseProbabilityWeighting, DoublyRobust, SelfNormalizedDoublyRobust,
    SwitchDoublyRobust, DoublyRobustWithShrinkage,
)


def estimators(req):
    return [
        DirectMethod(estimator_name='dm'),
        InverseProbabilityWeighting(estimator_name='ips'),
        InverseProbabilityWeighting(lambda_=req['clipLambda'], estimator_name='clipped_ips'),
        SelfNormalizedInverseProbabilityWeighting(estimator_name='snips'),
        DoublyRobust(estimator_name='dr'),
        SelfNormalizedDoublyRobust(estimator_name='sndr'),
        SwitchDoublyRobust(lambda_=req['switchLambda'], estimator_name='switch_dr'),
        DoublyRobustWithShrinkage(lambda_=req['drosLambda'], estimator_name='dros'),
    ]


def run_ope(bandit_feedback, action_dist, q_hat, req):
    ope = OffPolicyEvaluation(bandit_feedback=bandit_feedback, ope_estimators=estimators(req))
    values = ope.estimate_policy_values(action_dist=action_dist, estimated_rewards_by_reg_model=q_hat)
    intervals = ope.estimate_intervals(action_dist=action_dist, estimated_rewards_by_reg_model=q_hat,
                                       alpha=req['alpha'], n_bootstrap_samples=req['bootstrapN'], random_state=req['seed'])
    out = {}
    for name, v in values.items():
        ci = intervals[name]
        keys = list(ci.keys())
        out[name] = {'value': float(v), 'bootstrap': {'mean': float(ci['mean']), 'lower': float(ci[keys[1]]), 'upper': float(ci[keys[2]])}}
    return out


def main():
    req = json.load(sys.stdin)
    res = {}
    for campaign, ours in req['campaigns'].items():
        ds = OpenBanditDataset(behavior_policy='random', campaign=campaign, data_path=Path(req['dataPath']))
        bf = ds.obtain_batch_bandit_feedback()
        policy = BernoulliTS(n_actions=ds.n_actions, len_list=ds.len_list, is_zozotown_prior=True,
                             campaign=campaign, random_state=req['seed'])
        action_dist = policy.compute_batch_action_dist(n_rounds=bf['n_rounds'], n_sim=req['nSim'])
        reg = RegressionModel(n_actions=ds.n_actions, len_list=ds.len_list, action_context=ds.action_context,
                              base_model=LogisticRegression(max_iter=1000, C=100, random_state=req['seed']))
        q_hat = reg.fit_predict(context=bf['context'], action=bf['action'], reward=bf['reward'],
                                position=bf['position'], n_folds=3, random_state=req['seed'])
        own = run_ope(bf, action_dist, q_hat, req)
        n = len(ours['reward'])
        A, L = ours['nActions'], ours['lenList']
        our_bf = {'n_rounds': n, 'n_actions': A, 'action': np.asarray(ours['action'], dtype=int),
                  'position': np.asarray(ours['position'], dtype=int), 'reward': np.asarray(ours['reward'], dtype=float),
                  'pscore': np.asarray(ours['pscore'], dtype=float), 'context': np.zeros((n, 1)), 'action_context': np.eye(A)}
        our_dist = np.tile(np.asarray(ours['actionDist'], dtype=float).reshape(1, A, L), (n, 1, 1))
        our_q = np.tile(np.asarray(ours['qHat'], dtype=float).reshape(1, A, L), (n, 1, 1))
        res[campaign] = {
            'nRounds': int(bf['n_rounds']), 'nActions': int(ds.n_actions), 'lenList': int(ds.len_list),
            'obpActionDist': [float(x) for x in action_dist[0].reshape(-1)],
            'obp': own,
            'onOurInputs': run_ope(our_bf, our_dist, our_q, req),
        }
    json.dump(res, sys.stdout)


if __name__ == '__main__':
    main()
