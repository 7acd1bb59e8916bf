"""DenseSM and the grouped ensemble reproduce the published networks.

The reference is an independent NumPy implementation of the eval-mode forward pass written from
method.md section 1 (replicate padding, BatchNorm with running statistics, DenseNet order "new
features first", BatchNorm after ReLU in the bottleneck), applied to the published weights.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.model import ensemble as ensemble_mod
from core.model import kernels
from core.model.densesm import DenseSM, member_name, parse_member_name
from core.model.ensemble import Ensemble, unique_rows
from core.model.grouped import (
    TEMPORAL_CHUNK,
    GroupedEnsemble,
    MemberSpec,
    autograd,
    ensemble_net,
    layers,
    ops,
)
from core.model.kernels import policy as kernel_policy
from core.progress import CallbackProgress

TOL = 1e-5  # m3/m3, per member


def _bn(x: np.ndarray, sd: dict, prefix: str) -> np.ndarray:
    g, b = sd[f"{prefix}.weight"], sd[f"{prefix}.bias"]
    m, v = sd[f"{prefix}.running_mean"], sd[f"{prefix}.running_var"]
    shape = (1, -1, 1) if x.ndim == 3 else (1, -1)
    return (x - m.reshape(shape)) / np.sqrt(v.reshape(shape) + 1e-5) * g.reshape(shape) + b.reshape(
        shape
    )


def _conv_replicate(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    # x (B, Cin, L), w (Cout, Cin, 5): replicate padding of 2 on both sides
    xp = np.concatenate([x[:, :, :1], x[:, :, :1], x, x[:, :, -1:], x[:, :, -1:]], axis=2)
    length = x.shape[2]
    out = np.zeros((x.shape[0], w.shape[0], length))
    for k in range(5):
        out += np.einsum("bcl,oc->bol", xp[:, :, k : k + length], w[:, :, k])
    return out + b.reshape(1, -1, 1)


def _avg_pool(x: np.ndarray, k: int, ceil: bool) -> np.ndarray:
    length = x.shape[2]
    n = -(-length // k) if ceil else length // k
    return np.stack(
        [x[:, :, i * k : min((i + 1) * k, length)].mean(axis=2) for i in range(n)], axis=2
    )


def numpy_densesm(sd_t: dict, x: np.ndarray) -> np.ndarray:
    """Eval-mode DenseSM forward pass in float64 NumPy."""
    sd = {k: v.double().numpy() for k, v in sd_t.items()}
    relu = lambda a: np.maximum(a, 0.0)  # noqa: E731
    snap, series = x[:, :18], x[:, 18:156].reshape(-1, 3, 46)
    h = series
    for i, pool in ((1, 2), (2, 2), (3, 4)):
        h = _conv_replicate(h, sd[f"conv_block.conv{i}.weight"], sd[f"conv_block.conv{i}.bias"])
        h = relu(_bn(h, sd, f"conv_block.bn{i}"))
        h = _avg_pool(h, pool, ceil=i == 3)
    temporal = h.reshape(h.shape[0], -1)  # channel-major
    z = _bn(np.concatenate([snap, temporal], axis=1), sd, "norm")
    i = 0
    while f"dense_layers.{i}.linear1.weight" in sd:
        out = z
        for j in (1, 2, 3):
            out = (
                out @ sd[f"dense_layers.{i}.linear{j}.weight"].T
                + sd[f"dense_layers.{i}.linear{j}.bias"]
            )
            out = relu(_bn(out, sd, f"dense_layers.{i}.bn{j}"))
        z = np.concatenate([out, z], axis=1)
        i += 1
    f = relu(z @ sd["fc_layers.0.linear1.weight"].T + sd["fc_layers.0.linear1.bias"])
    f = _bn(f, sd, "fc_layers.0.bn1")
    return (f @ sd["out.weight"].T + sd["out.bias"])[:, 0]


@pytest.fixture(scope="module")
def inputs() -> np.ndarray:
    return np.random.default_rng(42).random((64, 156)).astype(np.float32)


def test_published_set_is_the_5x5_grid(published):
    assert len(published) == 25
    assert {parse_member_name(n) for n in published} == {
        (d, w) for d in range(1, 6) for w in (8, 16, 32, 64, 128)
    }


def test_densesm_matches_numpy_reference_for_every_member(published, inputs):
    x = torch.from_numpy(inputs)
    for name, sd in published.items():
        model = DenseSM(*parse_member_name(name))
        model.load_state_dict(sd)
        model.eval()
        with torch.no_grad():
            ours = model(x)[:, 0].double().numpy()
        ref = numpy_densesm(sd, inputs.astype(np.float64))
        assert np.abs(ours - ref).max() < TOL, name
        # the outputs are soil moisture of plausible size, not zeros
        assert np.abs(ref).max() > 0.01


def test_grouped_ensemble_matches_numpy_reference(published, inputs):
    ens = Ensemble.from_state_dicts(published)
    pred = ens.predict(inputs)
    for k, name in enumerate(ens.member_names):
        ref = numpy_densesm(published[name], inputs.astype(np.float64))
        assert np.abs(pred.members[k] - ref).max() < TOL, name
    refs = np.stack(
        [numpy_densesm(published[n], inputs.astype(np.float64)) for n in ens.member_names]
    )
    np.testing.assert_allclose(pred.mean, refs.mean(axis=0), atol=TOL)
    np.testing.assert_allclose(pred.spread, refs.std(axis=0), atol=TOL)


@pytest.fixture(params=["torch", "kernels"])
def inference_kernels(request, monkeypatch):
    """Inference with the PyTorch operations only, or with the fused CPU kernels."""
    monkeypatch.setattr(kernel_policy, "_ready", set(kernel_policy._ready))  # restored afterwards
    if request.param == "kernels":
        if kernels.numba is None:
            pytest.skip("numba is not installed")
        assert kernels.prepare(kernels.INFERENCE)
    else:
        kernel_policy._ready.discard(kernels.INFERENCE)
    return request.param


@pytest.fixture(params=["members", "grouped"])
def inference_heads(request, monkeypatch):
    """Inference with the dense heads member by member (CPUs), or grouped (GPUs)."""
    on = ("cpu",) if request.param == "members" else ()
    monkeypatch.setattr(ensemble_net, "PER_MEMBER_HEADS_ON", on)
    return request.param


@pytest.mark.parametrize("n", [1, 2 * TEMPORAL_CHUNK + 37])
def test_inference_path_equals_the_differentiable_path(
    published, n, inference_kernels, inference_heads
):
    """The no-autograd forward (matrix-product convolutions in chunks, buffer-based dense
    blocks member by member or grouped, with or without the fused kernels) gives what the
    autograd forward in eval mode gives, across chunk boundaries, frozen weights or not."""
    net = Ensemble.from_state_dicts(published).net
    x = torch.from_numpy(np.random.default_rng(7).random((n, 156)).astype(np.float32))
    with torch.inference_mode():
        fast_out, fast_feat = net(x)
        with net.frozen():
            frozen_out, frozen_feat = net(x)
    assert torch.equal(frozen_out, fast_out) and torch.equal(frozen_feat, fast_feat)
    with torch.enable_grad():
        slow_out, slow_feat = net(x)
    assert slow_out.requires_grad  # really the autograd path
    torch.testing.assert_close(fast_out, slow_out.detach(), atol=2e-6, rtol=0)
    torch.testing.assert_close(fast_feat, slow_feat.detach(), atol=2e-5, rtol=1e-5)
    ref = numpy_densesm(published["coarse_5_128"], x.double().numpy())
    k = net.names.index("coarse_5_128")
    assert np.abs(fast_out[k].double().numpy() - ref).max() < TOL


def test_dropout_keeps_half_the_values_doubled_and_is_seeded():
    x = torch.full((1000, 37, 11), 3.0, requires_grad=True)
    torch.manual_seed(5)
    y = autograd._dropout(x)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.5) < 0.003  # 407,000 fair coins
    assert torch.all(y[kept] == 6.0)
    # masks of neighbouring values are independent (no structure from the bit expansion)
    flat = kept.view(-1).float()
    assert abs((flat[1:] * flat[:-1]).mean().item() - 0.25) < 0.003
    y.sum().backward()
    torch.testing.assert_close(x.grad, 2.0 * kept.float())
    torch.manual_seed(5)
    assert torch.equal(autograd._dropout(x.detach()), y.detach())


@pytest.mark.parametrize("steps", [46, 23, 3])
def test_fused_relu_dropout_pool_equals_the_unfused_chain(monkeypatch, steps):
    """ReLU -> dropout (a known mask) -> average pool 2 (floor), values and gradients. The
    PyTorch path (without the fused CPU kernels, tested in test_kernels.py)."""
    monkeypatch.setenv("SOILMOISTURE_KERNELS", "0")
    gen = torch.Generator().manual_seed(3)
    h = torch.randn(3, 4, steps, 5, generator=gen, requires_grad=True)
    keep = (torch.rand(h.shape, generator=gen) < 0.5).float()
    monkeypatch.setattr(autograd, "_keep_mask", lambda shape, device, kept: keep * kept)
    g = torch.randn(3, 4, steps // 2, 5, generator=gen)
    for dropout in (True, False):
        fused = autograd._ReluDropPool2.apply(h, dropout)
        (grad_fused,) = torch.autograd.grad(fused, h, g)
        y = torch.relu(h) * (2.0 * keep if dropout else 1.0)
        ref = torch.nn.functional.avg_pool2d(y.permute(0, 1, 3, 2), (1, 2)).permute(0, 1, 3, 2)
        (grad_ref,) = torch.autograd.grad(ref, h, g)
        torch.testing.assert_close(fused, ref)
        torch.testing.assert_close(grad_fused, grad_ref)
    assert torch.all(grad_fused[:, :, 2 * (steps // 2) :] == 0)  # the step the pool drops


def test_layer1_batchnorm_folded_equals_batchnorm_after_the_product():
    """Batch statistics from the inputs' covariance: outputs, gradients, running statistics."""
    gen = torch.Generator().manual_seed(4)
    windows = torch.rand(15, 700, generator=gen)
    w = torch.randn(6, 15, generator=gen, requires_grad=True)
    b = torch.randn(6, generator=gen, requires_grad=True)
    bn_fused, bn_ref = layers._BatchNormParams(6), layers._BatchNormParams(6)
    with torch.no_grad():
        for bn in (bn_fused, bn_ref):
            bn.weight.copy_(torch.linspace(0.5, 2.0, 6))
            bn.bias.copy_(torch.linspace(-1.0, 1.0, 6))
    g = torch.randn(6, 700, generator=gen)
    fused = autograd._conv1_batchnorm(windows, w, b, bn_fused)
    grads_fused = torch.autograd.grad(fused, (w, bn_fused.weight, bn_fused.bias), g)
    pre = torch.addmm(b.unsqueeze(1), w, windows)
    ref = torch.nn.functional.batch_norm(
        pre.unsqueeze(0),
        bn_ref.running_mean,
        bn_ref.running_var,
        bn_ref.weight,
        bn_ref.bias,
        training=True,
        momentum=0.1,
        eps=1e-5,
    )[0]
    grads_ref = torch.autograd.grad(ref, (w, bn_ref.weight, bn_ref.bias), g)
    torch.testing.assert_close(fused, ref, atol=1e-5, rtol=1e-5)
    for a, r in zip(grads_fused, grads_ref, strict=True):
        torch.testing.assert_close(a, r, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(bn_fused.running_mean, bn_ref.running_mean)
    torch.testing.assert_close(bn_fused.running_var, bn_ref.running_var)


def test_state_dicts_round_trip_bit_for_bit(published):
    net = GroupedEnsemble([MemberSpec(*parse_member_name(n)) for n in published])
    net.load_member_state_dicts(published)
    back = net.member_state_dicts()
    assert set(back) == set(published)
    for name, sd in published.items():
        assert set(back[name]) == set(sd)
        for key, value in sd.items():
            assert back[name][key].shape == value.shape, (name, key)
            assert torch.equal(back[name][key].float(), value.float()), (name, key)


def _one_step_per_member(
    states: dict, x: torch.Tensor, y: torch.Tensor, train: bool
) -> tuple[dict, list[torch.Tensor]]:
    """One Adam step (lr 1e-3, MSE) of each member on its own, in training or eval mode.

    Returns each member's state after the step and its outputs before it, in ``states`` order.
    """
    after, outputs = {}, []
    for n, state in states.items():
        m = DenseSM(*parse_member_name(n))
        m.load_state_dict(state)
        m.train(train)
        o = torch.optim.Adam(m.parameters(), lr=1e-3)
        pred = m(x)[:, 0]
        outputs.append(pred.detach())
        ((pred - y) ** 2).mean().backward()
        o.step()
        after[n] = m.state_dict()
    return after, outputs


@pytest.mark.parametrize("kernels", ["1", "0"])
def test_grouped_training_equals_training_each_member(published, monkeypatch, kernels):
    """One Adam step of the grouped module equals one step of each member on its own, with
    the fused CPU kernels and without."""
    monkeypatch.setenv("SOILMOISTURE_KERNELS", kernels)
    monkeypatch.setattr(
        torch.nn.functional, "dropout", lambda x, p=0.5, training=True, inplace=False: x
    )
    names = ["coarse_1_8", "coarse_3_8", "coarse_2_32", "coarse_5_16"]
    states = {n: published[n] for n in names}
    x = torch.from_numpy(np.random.default_rng(1).random((40, 156)).astype(np.float32))
    y = torch.linspace(0.1, 0.4, 40)

    net = GroupedEnsemble([MemberSpec(*parse_member_name(n)) for n in names])
    net.load_member_state_dicts(states)
    net.train()
    net.dropout = False
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    out, _ = net(x)
    ((out - y) ** 2).mean(dim=1).sum().backward()
    opt.step()
    grouped_after = net.member_state_dicts()

    ref_states, ref_out = _one_step_per_member(states, x, y, train=True)
    for n in names:
        for key, value in ref_states[n].items():
            if key.endswith("num_batches_tracked") or _bias_before_batchnorm(key):
                continue
            torch.testing.assert_close(
                grouped_after[n][key], value, atol=2e-6, rtol=1e-4, msg=f"{n} {key}"
            )
    # training-mode outputs (batch statistics) agree too
    order = [names.index(n) for n in net.names]
    torch.testing.assert_close(out.detach(), torch.stack(ref_out)[order], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kernels", ["1", "0"])
def test_pretrained_normalisation_trains_like_each_member_in_eval_mode(
    published, monkeypatch, kernels
):
    """With ``batch_statistics`` off, a training step normalises by the running statistics:
    it equals a step of each member in eval mode (gradients on), and leaves those statistics
    as they were; dropout still runs in training mode."""
    monkeypatch.setenv("SOILMOISTURE_KERNELS", kernels)
    names = ["coarse_1_8", "coarse_3_8", "coarse_2_32", "coarse_5_16"]
    states = {n: published[n] for n in names}
    x = torch.from_numpy(np.random.default_rng(2).random((40, 156)).astype(np.float32))
    y = torch.linspace(0.1, 0.4, 40)

    net = GroupedEnsemble([MemberSpec(*parse_member_name(n)) for n in names])
    net.load_member_state_dicts(states)
    net.batch_statistics = False
    net.train()
    assert net.training and not any(g.training for g in net._width_groups())
    torch.manual_seed(0)
    dropped, _ = net(x)
    net.dropout = False
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    out, _ = net(x)
    assert float((dropped - out).detach().abs().max()) > 1e-3  # dropout ran in the first pass
    ((out - y) ** 2).mean(dim=1).sum().backward()
    opt.step()
    after = net.member_state_dicts()

    ref_states, ref_out = _one_step_per_member(states, x, y, train=False)
    for n in names:
        for key, value in ref_states[n].items():
            if key.endswith("num_batches_tracked"):
                continue
            torch.testing.assert_close(after[n][key], value, atol=2e-6, rtol=1e-4, msg=f"{n} {key}")
            if "running_" in key:  # untouched: the pretrained statistics, bit for bit
                assert torch.equal(after[n][key], states[n][key].to(after[n][key].dtype)), key
    order = [names.index(n) for n in net.names]
    torch.testing.assert_close(out.detach(), torch.stack(ref_out)[order], atol=1e-5, rtol=1e-4)


def _bias_before_batchnorm(key: str) -> bool:
    """Biases directly followed by a BatchNorm: their true gradient is zero in training mode,
    so Adam turns rounding noise of either sign into steps of about the learning rate in any
    implementation; they do not change the training-mode output and are not compared."""
    return (
        key.startswith("conv_block.conv")
        and key.endswith(".bias")
        or (key.startswith("dense_layers.") and ".linear" in key and key.endswith(".bias"))
    )


def test_predict_shared_equals_predict(published, inputs):
    ens = Ensemble.from_state_dicts({k: published[k] for k in ("coarse_1_8", "coarse_2_16")})
    # 8 distinct series shared by 64 samples
    x = inputs.copy()
    x[:, 18:] = x[np.arange(64) % 8, 18:]
    direct = ens.predict(x)
    series, index = unique_rows(x[:, 18:])
    assert len(series) == 8
    shared = ens.predict_shared(x[:, :18], series, index, batch_size=16)
    np.testing.assert_allclose(shared.members, direct.members, atol=1e-6)


def test_unique_rows_finds_equal_rows_byte_for_byte(monkeypatch):
    rng = np.random.default_rng(3)
    a = rng.random((500, 138), dtype=np.float32)
    a[200:260] = a[:60]
    a[300] = a[0]
    a[300, 4] = np.float32(-0.0) if a[0, 4] == 0 else np.nextafter(a[0, 4], np.float32(2))
    series, index = unique_rows(a)
    assert len(series) == 500 - 60
    assert np.array_equal(series[index].view(np.uint32), a.view(np.uint32))
    # keys that collide for different rows: the rows themselves are sorted
    monkeypatch.setattr(ensemble_mod, "_row_keys", lambda x: np.zeros(len(x), np.uint64))
    series2, index2 = unique_rows(a)
    assert len(series2) == 440
    assert np.array_equal(series2[index2], a)


def test_large_predictions_prepare_the_inference_kernels(published, monkeypatch):
    if kernels.numba is None:
        pytest.skip("numba is not installed")
    ens = Ensemble.from_state_dicts({"coarse_2_16": published["coarse_2_16"]})
    x = np.random.default_rng(4).random((300, 156)).astype(np.float32)
    monkeypatch.setattr(kernel_policy, "_ready", set())
    plain = ens.predict(x)
    assert not kernels.ready(kernels.INFERENCE)  # too few series to be worth compiling
    monkeypatch.setattr(ensemble_mod, "PREPARE_KERNELS_FROM", 200)
    messages = []
    fused = ens.predict(x, progress=CallbackProgress(on_message=messages.append))
    assert kernels.ready(kernels.INFERENCE)
    assert any("CPU kernels" in m for m in messages)
    np.testing.assert_allclose(fused.members, plain.members, atol=2e-6)


def test_predict_refuses_bad_inputs(published):
    ens = Ensemble.from_state_dicts({"coarse_1_8": published["coarse_1_8"]})
    with pytest.raises(ValueError, match="156"):
        ens.predict(np.zeros((3, 155), np.float32))
    bad = np.zeros((3, 156), np.float32)
    bad[1, 7] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ens.predict(bad)


def test_fresh_ensemble_is_seeded():
    a = Ensemble.fresh([(1, 8), (2, 16)], seed=3)
    b = Ensemble.fresh([(1, 8), (2, 16)], seed=3)
    c = Ensemble.fresh([(1, 8), (2, 16)], seed=4)
    x = np.random.default_rng(0).random((5, 156)).astype(np.float32)
    assert np.array_equal(a.predict(x).members, b.predict(x).members)
    assert not np.array_equal(a.predict(x).members, c.predict(x).members)


def test_member_names():
    assert member_name(3, 64) == "coarse_3_64"
    assert parse_member_name("coarse_5_128") == (5, 128)
    with pytest.raises(ValueError):
        parse_member_name("model.pt")


def conv_replicate_ref(w, bias, x):
    """PyTorch's own grouped Conv1d with replicate padding 2, in the layouts of
    ``ops._conv_taps``: ``w`` (M, 5 * C_out, C_in) tap-major, ``bias`` (M, C_out, 1, 1),
    ``x`` (M, C_in, T, B) -> (M, C_out, T, B)."""
    m, c_in, t, b = x.shape
    c_out = w.shape[1] // 5
    weight = w.reshape(m, 5, c_out, c_in).permute(0, 2, 3, 1).reshape(m * c_out, c_in, 5)
    xs = torch.nn.functional.pad(x.permute(3, 0, 1, 2).reshape(b, m * c_in, t), (2, 2), "replicate")
    out = torch.nn.functional.conv1d(xs, weight, bias.reshape(-1), groups=m)
    return out.reshape(b, m, c_out, t).permute(1, 2, 3, 0)


@pytest.mark.parametrize("steps", [2, 3, 11, 23])
def test_tap_convolution_equals_conv1d_with_replicate_padding(steps):
    """The tap products on the unpadded steps, read at clamped steps at the edges, are the
    convolution of the replicate-padded input: values and all gradients."""
    gen = torch.Generator().manual_seed(6)
    w = torch.randn(3, 5 * 4, 6, generator=gen, requires_grad=True)
    bias = torch.randn(3, 4, 1, 1, generator=gen, requires_grad=True)
    x = torch.randn(3, 6, steps, 7, generator=gen, requires_grad=True)
    ref = conv_replicate_ref(w, bias, x)
    torch.testing.assert_close(ops._conv_taps(w.detach(), bias.detach(), x.detach()), ref)
    out = autograd._TapConv.apply(w, bias, x)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    g = torch.randn(out.shape, generator=gen)
    for a, r in zip(
        torch.autograd.grad(out, (w, bias, x), g),
        torch.autograd.grad(ref, (w, bias, x), g),
        strict=True,
    ):
        torch.testing.assert_close(a, r, atol=1e-5, rtol=1e-5)
