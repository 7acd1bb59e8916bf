"""The fused CPU kernels (training step and inference) against the PyTorch operations they
replace."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from core.model import kernels
from core.model.grouped import autograd
from core.model.kernels import policy as kernel_policy
from core.model.kernels import training as training_kernels

from .test_model import conv_replicate_ref

pytestmark = pytest.mark.skipif(kernels.numba is None, reason="numba is not installed")


def _pool2_ref(y: torch.Tensor, scale: float) -> torch.Tensor:
    """Pairs of steps of ``(..., T, B)`` summed (floor), times ``scale``."""
    t2 = y.shape[-2] // 2
    return (y[..., 0 : 2 * t2 : 2, :] + y[..., 1 : 2 * t2 : 2, :]) * scale


@pytest.mark.parametrize("steps,series", [(46, 70), (23, 33), (11, 5), (3, 64)])
def test_relu_drop_pool2_without_dropout_equals_torch(monkeypatch, steps, series):
    gen = torch.Generator().manual_seed(1)
    h = torch.randn(3, 4, steps, series, generator=gen, requires_grad=True)
    g = torch.randn(3, 4, steps // 2, series, generator=gen)
    out = autograd._ReluDropPool2.apply(h, False)
    (grad,) = torch.autograd.grad(out, h, g)
    monkeypatch.setenv(kernels.ENV_SWITCH, "0")  # the PyTorch path
    ref = autograd._ReluDropPool2.apply(h, False)
    (grad_ref,) = torch.autograd.grad(ref, h, g)
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(grad, grad_ref, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(out, _pool2_ref(torch.relu(h), 0.5), atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("steps,series", [(46, 384), (23, 100)])
def test_relu_drop_pool2_dropout_is_fair_seeded_and_consistent(steps, series):
    gen = torch.Generator().manual_seed(2)
    h = torch.randn(25, 8, steps, series, generator=gen)
    torch.manual_seed(7)
    out, mask = kernels.relu_drop_pool2(h, True, 1.0)
    # kept (p = 1/2) and positive (p = 1/2); the odd last step is dropped by the pool
    used = mask[:, :, : 2 * (steps // 2)].float()
    assert abs(used.mean().item() - 0.25) < 0.004
    kept = used.view(-1)[(h[:, :, : 2 * (steps // 2)] > 0).reshape(-1)]
    assert abs(kept.mean().item() - 0.5) < 0.006
    # neighbouring decisions are independent, also across 32-value words and rows
    assert abs((kept[1:] * kept[:-1]).mean().item() - 0.25) < 0.006
    bits = mask[:, :, : 2 * (steps // 2)].bool()
    pos = h[:, :, : 2 * (steps // 2)] > 0
    for a, b in (
        ((..., slice(0, -32)), (..., slice(32, None))),  # the same place in the next word
        ((slice(None), slice(0, -1)), (slice(None), slice(1, None))),  # the next channel row
        ((..., slice(0, -2), slice(None)), (..., slice(2, None), slice(None))),  # next pair
    ):
        both = pos[a] & pos[b]
        pair = (bits[a] & bits[b])[both].float().mean().item()
        assert abs(pair - 0.25) < 0.01, (a, pair)  # 0.5 if the two shared their draws
    assert torch.all(mask[:, :, 2 * (steps // 2) :] == 0)
    assert torch.all(mask.bool() <= (h > 0))
    # the output is the pool of the kept positive values (dropout's x2 and the pool's 1/2)
    torch.testing.assert_close(out, _pool2_ref(h * mask, 1.0))
    g = torch.randn(out.shape, generator=gen)
    hr = h.clone().requires_grad_()
    (grad_ref,) = torch.autograd.grad(_pool2_ref(hr * mask, 1.0), hr, g)
    torch.testing.assert_close(kernels.relu_drop_pool2_backward(g, mask, 1.0), grad_ref)
    # seeded: the same seed, the same draws, whatever the number of threads
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        torch.manual_seed(7)
        out1, mask1 = kernels.relu_drop_pool2(h, True, 1.0)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(out1, out) and torch.equal(mask1, mask)
    torch.manual_seed(8)
    assert not torch.equal(kernels.relu_drop_pool2(h, True, 1.0)[1], mask)


def _layer2_ref(w, bias, x, gamma, beta, running_mean, running_var, mask):
    """Layer 2 from PyTorch operations: Conv1d with replicate padding, BatchNorm, ReLU, a known
    dropout mask (``mask`` is 1 where kept, or None for no dropout), pool 2."""
    m = x.shape[0]
    h = conv_replicate_ref(w, bias.view(m, -1, 1, 1), x)
    c = h.shape[1]
    y = F.batch_norm(
        h.reshape(1, m * c, -1), running_mean, running_var, gamma, beta, True, 0.1, 1e-5
    ).view(h.shape)
    y = torch.relu(y)
    if mask is None:
        return _pool2_ref(y, 0.5)
    return _pool2_ref(y * mask, 1.0)


@pytest.mark.parametrize("dropout", [False, True])
@pytest.mark.parametrize("steps,series", [(23, 96), (11, 37), (4, 9), (2, 3)])
def test_conv_bn_relu_drop_pool2_equals_torch(dropout, steps, series):
    """Values, all five gradients and the running statistics."""
    gen = torch.Generator().manual_seed(3)
    m, c_in, c_out = 3, 6, 4
    w = (0.3 * torch.randn(m, 5 * c_out, c_in, generator=gen)).requires_grad_()
    bias = torch.randn(m * c_out, generator=gen).requires_grad_()
    x = torch.randn(m, c_in, steps, series, generator=gen).requires_grad_()
    gamma = torch.linspace(0.5, 2.0, m * c_out).requires_grad_()
    beta = torch.linspace(-0.5, 0.5, m * c_out).requires_grad_()
    stats = [torch.zeros(m * c_out), torch.ones(m * c_out)]
    stats_ref = [s.clone() for s in stats]
    inputs = (w, bias, x, gamma, beta)
    torch.manual_seed(9)
    out = autograd._TapConvBatchNormPool2.apply(*inputs, *stats, dropout)
    if dropout:  # recover the draws: the same seed, the mask of the kept positive values
        torch.manual_seed(9)
        y = torch.bmm(w.detach(), x.detach().reshape(m, c_in, -1))
        mask = kernels.conv_bn_relu_drop_pool2(
            y.view(m, 5, c_out, steps, series),
            bias.detach(),
            gamma.detach(),
            beta.detach(),
            1e-5,
            True,
            1.0,
        )[2]
    else:
        mask = None
    ref = _layer2_ref(*inputs, *stats_ref, mask)
    torch.testing.assert_close(out, ref, atol=2e-5, rtol=1e-5)
    if dropout:  # half of the positive values were dropped, independently of the positions
        pre = conv_replicate_ref(w, bias.view(m, -1, 1, 1), x)
        c = pre.shape[1]
        bn = F.batch_norm(pre.reshape(1, m * c, -1), None, None, gamma, beta, True, 0.1, 1e-5)
        used = slice(0, 2 * (steps // 2))  # the pool drops an odd last step
        positive = bn.view(pre.shape)[:, :, used] > 0
        kept = mask[:, :, used].bool()[positive].float().mean().item()
        assert abs(kept - 0.5) < 0.05  # 1.0 without dropout
    g = torch.randn(out.shape, generator=gen)
    grads = torch.autograd.grad(out, inputs, g)
    grads_ref = torch.autograd.grad(ref, inputs, g)
    # the bias before a BatchNorm has a zero gradient: both are rounding noise
    beta_scale = grads_ref[4].abs().max().item()
    assert grads[1].abs().max().item() < 1e-5 * beta_scale
    assert grads_ref[1].abs().max().item() < 1e-5 * beta_scale
    for i, name in ((0, "w"), (2, "input"), (3, "gamma"), (4, "beta")):
        scale = grads_ref[i].abs().max().item()
        torch.testing.assert_close(grads[i], grads_ref[i], atol=2e-5 * scale, rtol=1e-4, msg=name)
    for s, r in zip(stats, stats_ref, strict=True):
        torch.testing.assert_close(s, r)


def test_kernels_run_only_where_they_can(monkeypatch):
    x = torch.zeros(2, 2)
    assert kernels.enabled(x)
    assert not kernels.enabled(x.double())
    assert not kernels.enabled(torch.zeros(2, 2, device="meta"))
    monkeypatch.setenv(kernels.ENV_SWITCH, "0")
    assert not kernels.enabled(x)
    monkeypatch.setenv(kernels.ENV_SWITCH, "1")
    monkeypatch.setattr(kernel_policy, "unavailable", "numba is not installed")
    assert not kernels.enabled(x)


@pytest.mark.parametrize("kind", [kernels.TRAINING, kernels.INFERENCE])
def test_prepare_compiles_or_loads_the_kernels_without_drawing_random_numbers(monkeypatch, kind):
    monkeypatch.setattr(kernel_policy, "_ready", set())  # not yet prepared in this process
    torch.manual_seed(1)
    assert kernels.prepare(kind)
    assert kernels.ready(kind)
    assert not kernels.ready(({kernels.TRAINING, kernels.INFERENCE} - {kind}).pop())
    after = torch.rand(3)
    torch.manual_seed(1)
    assert torch.equal(torch.rand(3), after)  # seeded training is not shifted by it
    monkeypatch.setenv(kernels.ENV_SWITCH, "0")
    assert not kernels.prepare(kind)


def test_the_kernels_follow_the_relu_on_infinities_and_refuse_too_short_series():
    h = torch.tensor([[[[-float("inf")], [1.0], [2.0], [-float("inf")]]]])
    out, _ = kernels.relu_drop_pool2(h, False, 0.5)
    torch.testing.assert_close(out[0, 0, :, 0], torch.tensor([0.5, 1.0]))
    with pytest.raises(ValueError, match="at least 2 steps"):
        kernels.relu_drop_pool2(torch.zeros(1, 1, 1, 4), False, 0.5)


def test_a_failing_compiler_switches_the_kernels_off(monkeypatch, caplog):
    monkeypatch.setattr(kernel_policy, "unavailable", None)
    monkeypatch.setattr(kernel_policy, "_ready", set())

    def broken(*args, **kwargs):
        raise RuntimeError("no writable cache folder")

    monkeypatch.setattr(training_kernels, "relu_drop_pool2", broken)
    assert not kernels.prepare()
    assert not kernels.enabled(torch.zeros(2))
    assert "no writable cache folder" in kernel_policy.unavailable
    assert "switched off" in caplog.text


def test_concurrent_trainings_are_safe_with_numba_workqueue_layer(tmp_path):
    """numba's "workqueue" layer (no TBB, no OpenMP) aborts on concurrent kernel launches:
    the kernels take a process-wide lock."""
    script = textwrap.dedent(
        """
        import threading, torch
        from core.model import kernels
        kernels.prepare()
        h = torch.randn(25, 32, 46, 64)
        errors = []
        def run():
            try:
                for _ in range(20):
                    out, mask = kernels.relu_drop_pool2(h, True, 1.0)
                    kernels.relu_drop_pool2_backward(out, mask, 1.0)
            except Exception as exc:
                errors.append(exc)
        threads = [threading.Thread(target=run) for _ in range(3)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        import numba
        print(numba.threading_layer(), errors)
        """
    )
    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue")
    repo = Path(__file__).resolve().parents[3]
    res = subprocess.run(
        [sys.executable, "-c", script],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["workqueue", "[]"]


# -- inference ---------------------------------------------------------------------------------
def _branch_ref(x: torch.Tensor, layers: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """The temporal branch with PyTorch's Conv1d per member: ``x`` ``(B, 3, T)``, ``layers``
    ``[(w (M, C_out, C_in, 5), b (M, C_out))] * 3`` -> ``(M, B, C3 * windows)``."""
    outs = []
    for j in range(layers[0][0].shape[0]):
        h = x
        for i, (w, b) in enumerate(layers):
            h = torch.relu(F.conv1d(F.pad(h, (2, 2), "replicate"), w[j], b[j]))
            h = F.avg_pool1d(h, 4, ceil_mode=True) if i == 2 else F.avg_pool1d(h, 2)
        outs.append(h.flatten(1))  # channel-major
    return torch.stack(outs)


# channels per layer: below, at and above the block of 4 output rows (layers 2 and 3), and
# odd row counts for layer 1's pairs of rows; steps: the model's 46, and short series whose
# last pool windows are partial
@pytest.mark.parametrize(
    "channels,steps,series",
    [
        ((32, 16, 4), 46, 70),
        ((32, 16, 4), 46, 1),
        ((5, 3, 6), 46, 9),
        ((4, 6, 3), 9, 5),
        ((3, 4, 5), 4, 3),
        ((6, 5, 4), 22, 2),
    ],
)
def test_temporal_branch_equals_torch(channels, steps, series):
    gen = torch.Generator().manual_seed(steps + series)
    m, (c1, c2, c3) = 2, channels
    layers = []
    for c_in, c_out in ((3, c1), (c1, c2), (c2, c3)):
        layers.append(
            (torch.randn(m, c_out, c_in, 5, generator=gen), torch.randn(m, c_out, generator=gen))
        )
    x = torch.randn(series, 3, steps, generator=gen)
    (w1, b1), (w2, b2), (w3, b3) = layers
    out = kernels.temporal_branch(
        F.pad(x, (2, 2), "replicate").permute(1, 2, 0),
        w1.permute(0, 1, 3, 2).reshape(m * c1, 15),  # column 3 * tap + series
        b1.reshape(-1),
        0.5 * w2,  # the pools' 1/2, left to the next layer's weights
        b2,
        0.5 * w3,
        b3,
    )
    ref = _branch_ref(x, layers)
    assert out.shape == ref.shape == (m, series, c3 * -(-(steps // 4) // 4))
    torch.testing.assert_close(out, ref, atol=1e-4, rtol=1e-5)


def test_temporal_branch_refuses_what_does_not_fit():
    z = torch.zeros
    args = [z(3, 50, 2), z(64, 15), z(64), z(2, 16, 32, 5), z(2, 16), z(2, 4, 16, 5), z(2, 4)]
    assert kernels.temporal_branch(*args).shape == (2, 2, 12)
    for i, bad, match in [
        (0, z(3, 7, 2), "T >= 4"),
        (0, z(2, 50, 2), "padded series"),
        (1, z(64, 14), "w1 must be"),
        (4, z(2, 15), "b2 must be"),
        (5, z(2, 4, 15, 5), "w3 must be"),
    ]:
        with pytest.raises(ValueError, match=match):
            kernels.temporal_branch(*args[:i], bad, *args[i + 1 :])


def test_training_kernels_leave_pytorchs_thread_count():
    """numba's OpenMP layer sets the calling thread's OpenMP count, which is PyTorch's."""
    if kernels.numba is None:
        pytest.skip("numba is not installed")
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        kernels.relu_drop_pool2(torch.rand(2, 3, 8, 5), True, 0.5)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(previous)
