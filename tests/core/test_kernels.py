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

from core.model import grouped, kernels

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
    out = grouped._ReluDropPool2.apply(h, False)
    (grad,) = torch.autograd.grad(out, h, g)
    monkeypatch.setenv(kernels.ENV_SWITCH, "0")  # the PyTorch path
    ref = grouped._ReluDropPool2.apply(h, False)
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
    out = grouped._TapConvBatchNormPool2.apply(*inputs, *stats, dropout)
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
    monkeypatch.setattr(kernels, "unavailable", "numba is not installed")
    assert not kernels.enabled(x)


@pytest.mark.parametrize("kind", [kernels.TRAINING, kernels.INFERENCE])
def test_prepare_compiles_or_loads_the_kernels_without_drawing_random_numbers(monkeypatch, kind):
    monkeypatch.setattr(kernels, "_ready", set())  # not yet prepared in this process
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
    monkeypatch.setattr(kernels, "unavailable", None)
    monkeypatch.setattr(kernels, "_ready", set())

    def broken(*args, **kwargs):
        raise RuntimeError("no writable cache folder")

    monkeypatch.setattr(kernels, "relu_drop_pool2", broken)
    assert not kernels.prepare()
    assert not kernels.enabled(torch.zeros(2))
    assert "no writable cache folder" in kernels.unavailable
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
    repo = Path(__file__).resolve().parents[2]
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
@pytest.mark.parametrize("steps,series,rows", [(46, 70, 12), (46, 1, 12), (5, 33, 7), (2, 3, 1)])
def test_series_conv_relu_pool2_equals_torch(steps, series, rows):
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(series, 3 * steps, generator=gen)
    w = torch.randn(rows, 3, 5, generator=gen)  # (R, series, taps)
    bias = torch.randn(rows, generator=gen)
    padded = F.pad(x.view(series, 3, steps), (2, 2), "replicate").permute(1, 2, 0)
    out = kernels.series_conv_relu_pool2(padded, w.permute(0, 2, 1).reshape(rows, 15), bias)
    conv = conv_replicate_ref(  # torch's Conv1d: (1, R, T, B)
        w.permute(2, 0, 1).reshape(1, 5 * rows, 3),
        bias.view(1, rows, 1, 1),
        x.view(series, 3, steps).permute(1, 2, 0).unsqueeze(0),
    )
    ref = _pool2_ref(torch.relu(conv[0]), 1.0)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="at least 2 steps"):
        kernels.series_conv_relu_pool2(torch.zeros(3, 5, 2), torch.zeros(1, 15), torch.zeros(1))


def _conv_ref(steps: int, series: int, c_out: int, seed: int) -> tuple[torch.Tensor, ...]:
    """Inputs of a 2-member convolution, 5 -> ``c_out`` channels, and PyTorch's Conv1d of them."""
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(2, c_out, 5, 5, generator=gen)  # (M, C_out, C_in, taps)
    x = torch.randn(2, 5, steps, series, generator=gen)
    bias = torch.randn(2, c_out, generator=gen)
    taps = w.permute(0, 3, 1, 2).reshape(2, 5 * c_out, 5)
    return x, w, bias, conv_replicate_ref(taps, bias.view(2, c_out, 1, 1), x)


# output channels: fewer than the 4 computed together, a whole block, a block and a part
@pytest.mark.parametrize("c_out", [3, 4, 6])
@pytest.mark.parametrize("steps,series", [(23, 70), (23, 1), (4, 5), (3, 2), (2, 3)])
def test_conv_relu_pool2_equals_torch(steps, series, c_out):
    x, w, bias, conv = _conv_ref(steps, series, c_out, 4)
    out = kernels.conv_relu_pool2(x, w, bias)
    torch.testing.assert_close(out, grouped._pool2(torch.relu(conv)), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("c_out", [3, 4, 6])
@pytest.mark.parametrize("steps,series", [(11, 70), (11, 1), (4, 3), (5, 2), (1, 4)])
def test_conv_relu_pool4_equals_torch(steps, series, c_out):
    x, w, bias, conv = _conv_ref(steps, series, c_out, 5)
    out = kernels.conv_relu_pool4(x, w, bias)  # (M, B, C * windows), channel-major
    pooled = F.avg_pool1d(
        torch.relu(conv).permute(0, 3, 1, 2).reshape(-1, c_out, steps), 4, ceil_mode=True
    )
    ref = pooled.reshape(2, series, -1)
    assert out.shape == ref.shape
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_inference_convolutions_refuse_weights_that_do_not_fit():
    x, w, bias, _ = _conv_ref(11, 3, 4, 6)
    with pytest.raises(ValueError, match="do not fit"):
        kernels.conv_relu_pool2(x, w[:, :, :4], bias)  # 4 input channels for 5
    with pytest.raises(ValueError, match="do not fit"):
        kernels.conv_relu_pool4(x, w, bias[:, :3])
    with pytest.raises(ValueError, match="at least 2 steps"):
        kernels.conv_relu_pool2(x[:, :, :1], w, bias)


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
