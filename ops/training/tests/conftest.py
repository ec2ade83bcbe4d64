import pathlib

import pytest

from ops.training import synth


@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory) -> pathlib.Path:
    """A small seeded synthetic MovieLens-format data set (shared by the training tests)."""
    return synth.generate(tmp_path_factory.mktemp("synth"), users=40, items=60, ratings=2000, seed=3)
