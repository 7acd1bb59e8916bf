"""The --device cuda path: same predictions as the CPU, and adaptation runs on the GPU.

Skipped cleanly where torch sees no CUDA device.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.adaptation.methods import AdaptConfig
from core.adaptation.train import adapt
from core.errors import InputError
from core.model.ensemble import Ensemble, resolve_device

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.mark.gpu
@cuda
def test_cuda_predictions_match_cpu(published):
    x = np.random.default_rng(0).random((3000, 156)).astype(np.float32)
    cpu = Ensemble.from_state_dicts(published).predict(x)
    gpu = Ensemble.from_state_dicts(published, device="cuda").predict(x)
    np.testing.assert_allclose(gpu.members, cpu.members, atol=1e-4)


@pytest.mark.gpu
@cuda
def test_cuda_adaptation_runs(published):
    rng = np.random.default_rng(1)
    x = rng.random((300, 156)).astype(np.float32)
    y = rng.uniform(0.1, 0.4, 300).astype(np.float32)
    ens = Ensemble.from_state_dicts(published, device="cuda")
    res = adapt(
        ens,
        x[:100],
        y[:100],
        x[100:200],
        y[100:200],
        x[200:],
        AdaptConfig(epochs=2, snapshot_epochs=1, device="cuda"),
    )
    assert res.ensemble.device.type == "cuda"
    assert np.isfinite(res.ensemble.predict(x[:10]).mean).all()


def test_unavailable_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(InputError, match="no CUDA"):
        resolve_device("cuda")
    with pytest.raises(InputError, match="unknown device"):
        resolve_device("tpu")
