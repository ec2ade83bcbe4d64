"""Import obp 0.5.7 without torch.

obp imports torch at module level only for NNPolicyLearner (obp.policy.offline) and a tensor check
in obp.utils, neither of which the OPE estimators or BernoulliTS call. PyPI's torch wheels are ~1 GB
of CUDA builds, so the parity venv installs obp with --no-deps and this module registers an import
stub for `torch` and its submodules: any attribute is an inert class, so the module-level
definitions (`class X(nn.Module)`, annotations) import, and any actual use would fail loudly.
"""
import importlib.abc
import importlib.machinery
import sys
import types


class _InertMeta(type):
    def __getattr__(cls, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return _Inert

    def __call__(cls, *args, **kwargs):
        raise RuntimeError('torch is stubbed in the obp parity venv (ops/parity/obp/obp_stub.py)')


class _Inert(metaclass=_InertMeta):
    pass


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return _Inert


class _TorchFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname == 'torch' or fullname.startswith('torch.'):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        m = _StubModule(spec.name)
        m.__path__ = []
        return m

    def exec_module(self, module):
        pass


def install():
    try:
        import torch  # noqa: F401  (a real torch, if present, is used as it is)
        return
    except ImportError:
        pass
    sys.meta_path.insert(0, _TorchFinder())
