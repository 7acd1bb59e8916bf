"""The four transfer methods: input checks, losses, beta, reproducibility, the schedule (epoch
length, snapshot average), and each loss term's own effect on a controlled domain-shift problem
where the truth is known (see domain_shift.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.adaptation.losses import coral, early_balance_beta
from core.adaptation.methods import METHODS, AdaptConfig
from core.adaptation.pretrain import PretrainConfig, pretrain
from core.adaptation.schedule import _snapshot_add, _snapshot_load
from core.adaptation.train import adapt
from core.errors import Cancelled, InputError
from core.model.ensemble import Ensemble
from core.progress import CallbackProgress

from ..domain_shift import make_problem, rmse, smap_error
from .conftest import all_sets


# -- configuration and inputs ----------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"method": "coral"}, "unknown transfer method"),
        ({"alpha": 1.5}, "alpha"),
        ({"beta": "big"}, "beta"),
        ({"beta": -1.0}, "beta"),
        ({"epochs": 0}, "epochs"),
        ({"lr": 0}, "learning rate"),
        ({"batch_size": 1}, "batch size"),
        ({"loss": "huber"}, "loss"),
        ({"batchnorm": "frozen"}, "BatchNorm mode"),
    ],
)
def test_config_refuses_bad_values(kwargs, match):
    with pytest.raises(InputError, match=match):
        AdaptConfig(**kwargs)


def test_methods_registry_matches_the_papers_table():
    assert {n: (m.uses_coarse, m.uses_domain) for n, m in METHODS.items()} == {
        "finetune": (False, False),
        "ms": (True, False),
        "da": (False, True),
        "msda": (True, True),
    }
    assert AdaptConfig(method="finetune", alpha=0.3).effective_alpha == 1.0
    assert AdaptConfig(method="da", alpha=0.3).effective_alpha == 1.0
    assert AdaptConfig(method="msda", alpha=0.3).effective_alpha == 0.3


def _fail(small, problem, match, **over):
    args = {
        "fine_x": problem.fine_x,
        "fine_y": problem.fine_y,
        "coarse_x": problem.coarse_x,
        "coarse_y": problem.coarse_y,
        "target_x": problem.target_x,
    }
    args.update(over)
    calls = []
    progress = CallbackProgress(on_fraction=calls.append)
    with pytest.raises(InputError, match=match):
        adapt(small, config=AdaptConfig(epochs=1), progress=progress, **args)
    assert calls == [], "an input error must be raised before any training step"


def test_bad_inputs_are_refused_before_training(small, problem):
    _fail(small, problem, "152 model inputs", fine_x=problem.fine_x[:, :152])
    nan = problem.fine_x.copy()
    nan[3, 20] = np.nan
    _fail(small, problem, "NaN", fine_x=nan)
    _fail(small, problem, "empty", fine_x=problem.fine_x[:0], fine_y=problem.fine_y[:0])
    _fail(small, problem, "outside 0-1", fine_y=problem.fine_y * 100)
    _fail(small, problem, "outside \\[0, 1\\]", target_x=problem.target_x * 3)
    _fail(small, problem, "9 km", coarse_x=None)
    _fail(small, problem, "unlabelled target", target_x=None)
    _fail(small, problem, "at least 2", fine_x=problem.fine_x[:1], fine_y=problem.fine_y[:1])
    _fail(small, problem, "labels", fine_y=problem.fine_y[:-1])


# -- losses and beta -------------------------------------------------------------------------
def test_coral_matches_hand_computation():
    s = torch.tensor([[[0.0, 1.0], [2.0, 3.0], [4.0, 2.0]]])
    t = torch.tensor([[[1.0, 1.0], [1.0, 2.0], [4.0, 6.0]]])
    # covariances with n - 1 = 2
    cs = np.cov(s[0].numpy().T)
    ct = np.cov(t[0].numpy().T)
    expected = ((cs - ct) ** 2).sum() / (4 * 2 * 2)
    assert coral(s, t).item() == pytest.approx(expected, rel=1e-6)
    assert coral(s, s).item() == pytest.approx(0.0, abs=1e-7)


def test_early_balance_beta_formula(small, problem):
    rng = np.random.default_rng(0)
    beta = early_balance_beta(
        small, problem.fine_x, problem.fine_y, problem.target_x, 0.7, draws=5, rng=rng
    )
    # recompute by hand with the same draws
    rng = np.random.default_rng(0)
    net = small.net
    net.eval()
    with torch.no_grad():
        out, ff = net(torch.from_numpy(problem.fine_x))
        mse = ((out - torch.from_numpy(problem.fine_y)) ** 2).mean(dim=1)
        nt = len(problem.target_x)
        _, ft = net(torch.from_numpy(problem.target_x))
        k = len(problem.fine_x)
        doms = [
            coral(ff, ft[:, torch.from_numpy(rng.choice(nt, size=k, replace=False))]).sqrt()
            for _ in range(5)
        ]
    expected = (0.7 * mse.double() / torch.stack(doms).double().mean(dim=0)).numpy()
    np.testing.assert_allclose(beta, expected, rtol=1e-5)
    assert (beta > 0).all()


def test_snapshot_average_is_the_mean_of_states():
    net = torch.nn.BatchNorm1d(3)
    states = []
    acc = None
    for value in (1.0, 2.0, 6.0):
        with torch.no_grad():
            net.weight.fill_(value)
            net.running_mean.fill_(value * 10)
        states.append(value)
        acc = _snapshot_add(acc, net)
    _snapshot_load(acc, 3, net)
    assert torch.allclose(net.weight, torch.full((3,), 3.0))
    assert torch.allclose(net.running_mean, torch.full((3,), 30.0))


# -- runs ------------------------------------------------------------------------------------
def test_seeded_runs_are_reproducible_and_leave_the_input_untouched(small, problem):
    before = small.predict(problem.fine_x[:20]).members.copy()
    cfg = AdaptConfig(method="msda", alpha=0.5, epochs=2, snapshot_epochs=2, seed=7)
    args = (problem.fine_x, problem.fine_y, problem.coarse_x, problem.coarse_y, problem.target_x)
    a = adapt(small, *args, config=cfg)
    b = adapt(small, *args, config=cfg)
    c = adapt(small, *args, config=AdaptConfig(method="msda", alpha=0.5, epochs=2, seed=8))
    pa = a.ensemble.predict(problem.target_x[:50]).members
    assert np.array_equal(pa, b.ensemble.predict(problem.target_x[:50]).members)
    assert not np.array_equal(pa, c.ensemble.predict(problem.target_x[:50]).members)
    assert np.array_equal(before, small.predict(problem.fine_x[:20]).members)
    assert set(a.betas) == set(small.member_names) and all(v > 0 for v in a.betas.values())
    assert list(a.history["epoch"]) == [1, 2]
    assert a.provenance()["alpha"] == 0.5


def test_cancel_stops_between_steps(small, problem):
    steps = []

    def cancelled() -> bool:
        return len(steps) >= 2

    progress = CallbackProgress(on_fraction=steps.append, is_cancelled=cancelled)
    with pytest.raises(Cancelled):
        adapt(
            small,
            problem.fine_x,
            problem.fine_y,
            problem.coarse_x,
            problem.coarse_y,
            problem.target_x,
            AdaptConfig(epochs=50),
            progress,
        )
    assert len(steps) == 2


def test_large_target_is_subsampled(small, problem):
    big = np.repeat(problem.target_x, 5, axis=0)
    r = adapt(
        small,
        problem.fine_x,
        problem.fine_y,
        problem.coarse_x,
        problem.coarse_y,
        big,
        AdaptConfig(epochs=1, snapshot_epochs=1),
    )
    assert r.n_target == len(big)
    assert r.n_target_used == 128  # one step of one batch: all the domain loss can use
    assert r.notes


def test_pretrain_learns_a_9km_relation():
    rng = np.random.default_rng(0)
    x = rng.random((600, 156)).astype(np.float32)
    y = (0.1 + 0.3 * x[:, 0] * x[:, 5]).astype(np.float32)
    res = pretrain(
        x, y, PretrainConfig(epochs=8, snapshot_epochs=3, lr=0.01), specs=[(1, 8), (2, 16)]
    )
    assert len(res.val_rmse) == 2
    assert res.history["val_rmse"].iloc[-1] < res.history["val_rmse"].iloc[0]
    assert max(res.val_rmse.values()) < np.std(y)  # better than predicting the mean


# -- the schedule ---------------------------------------------------------------------------
def _states(ensemble: Ensemble) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone().double() for k, v in ensemble.net.state_dict().items()}


def test_adapt_averages_exactly_the_last_n_epochs(small, problem):
    """The final weights are the mean of the states after each of the last N epochs.

    A run of k epochs repeats the first k epochs of a longer run with the same seed (the same
    batches, dropout and steps), so its final state is the longer run's state after epoch k.
    """
    args = (problem.fine_x, problem.fine_y, problem.coarse_x, problem.coarse_y)

    def run(epochs: int, snapshots: int) -> dict[str, torch.Tensor]:
        cfg = AdaptConfig(
            method="ms", alpha=0.5, epochs=epochs, snapshot_epochs=snapshots, min_epoch_steps=2
        )
        return _states(adapt(small, *args, config=cfg).ensemble)

    after = {k: run(k, 1) for k in (2, 3, 4)}
    last3 = run(4, 3)
    last4 = run(4, 10)  # more snapshots than epochs: all of them
    first = run(1, 1)
    for key, value in last3.items():
        if value.is_floating_point():
            expected = (after[2][key] + after[3][key] + after[4][key]) / 3
            torch.testing.assert_close(value, expected, rtol=1e-5, atol=1e-6)
            everything = (first[key] + after[2][key] + after[3][key] + after[4][key]) / 4
            torch.testing.assert_close(last4[key], everything, rtol=1e-5, atol=1e-6)
    # the epochs really differ, so averaging the wrong ones would be caught
    diffs = [
        float((after[3][k] - after[4][k]).abs().max())
        for k in last3
        if last3[k].is_floating_point()
    ]
    assert max(diffs) > 1e-4


def test_min_epoch_steps_draws_few_labelled_samples_again(small, problem):
    steps = []
    cfg = AdaptConfig(method="ms", alpha=0.5, epochs=3, min_epoch_steps=4, snapshot_epochs=1)
    assert cfg.steps_per_epoch(len(problem.fine_x)) == 4  # 90 samples: one batch per pass
    assert cfg.steps_per_epoch(128 * 6 + 5) == 7  # a pass longer than the minimum: one pass
    r = adapt(
        small,
        problem.fine_x,
        problem.fine_y,
        problem.coarse_x,
        problem.coarse_y,
        config=cfg,
        progress=CallbackProgress(on_fraction=steps.append),
    )
    assert len(steps) == 12 and steps[-1] == pytest.approx(1.0)
    assert list(r.history["epoch"]) == [1, 2, 3]
    with pytest.raises(InputError, match="min_epoch_steps"):
        AdaptConfig(min_epoch_steps=0)


@pytest.mark.parametrize("mode", ["batch", "pretrained"])
def test_batchnorm_mode_decides_whether_the_running_statistics_move(small, problem, mode):
    cfg = AdaptConfig(method="msda", alpha=0.5, epochs=3, min_epoch_steps=2, batchnorm=mode)
    r = adapt(small, *all_sets(problem), config=cfg)
    before, after = _states(small), _states(r.ensemble)
    running = [k for k in before if "running_" in k]
    weights = [k for k in before if before[k].is_floating_point() and "running_" not in k]
    assert running and weights
    moved = max(float((after[k] - before[k]).abs().max()) for k in running)
    assert max(float((after[k] - before[k]).abs().max()) for k in weights) > 1e-4
    if mode == "pretrained":
        assert moved == 0.0
    else:
        assert moved > 1e-3
    assert r.ensemble.net.batch_statistics  # the saved ensemble behaves the standard way
    assert r.provenance()["config"]["batchnorm"] == mode


# -- the four methods on a controlled domain shift ------------------------------------------
def _feature_gap(ensemble: Ensemble, source: np.ndarray, target: np.ndarray) -> float:
    """Mean over members of sqrt(CORAL) between source and target bottleneck features."""
    net = ensemble.net
    net.eval()
    with torch.no_grad():
        fs = net(torch.from_numpy(source))[1]
        ft = net(torch.from_numpy(target))[1]
    return float(coral(fs, ft).sqrt().mean())


@pytest.mark.slow
def test_the_four_methods_are_told_apart_on_a_domain_shift(small):
    """Each loss term does its own job, measurably, on a problem where they can differ.

    The 9 km labels carry an error of their own (bias, a different radar sensitivity, noise),
    not the 50 m shift, so nothing here is built for one method to win: the test checks that
    the 9 km term pulls the model toward the 9 km labels, that the domain term aligns the
    station cells' features with the area's, and that the four methods end up measurably apart.
    """
    f0 = lambda x: small.predict(x).mean  # noqa: E731
    p = make_problem(f0, n_stations=5, dates=40, seed=0)
    target = p.target_x[:2000]
    smap_signal = p.coarse_truth + smap_error(p.coarse_x)  # what the 9 km labels say, noise-free
    out: dict[str, dict[str, float]] = {
        "pretrained": {
            "target": rmse(f0(p.target_x), p.target_y),
            "coarse": rmse(f0(p.coarse_x), smap_signal),
            "gap": _feature_gap(small, p.fine_x, target),
        }
    }
    for method in ("finetune", "ms", "da", "msda"):
        cfg = AdaptConfig(method=method, alpha=0.5, epochs=10, min_epoch_steps=5, seed=0)
        e = adapt(small, p.fine_x, p.fine_y, p.coarse_x, p.coarse_y, p.target_x, cfg).ensemble
        out[method] = {
            "target": rmse(e.predict(p.target_x).mean, p.target_y),
            "coarse": rmse(e.predict(p.coarse_x).mean, smap_signal),
            "gap": _feature_gap(e, p.fine_x, target),
        }
    print({m: {k: round(v, 4) for k, v in d.items()} for m, d in out.items()})
    # the 9 km term: closer to the 9 km labels than the same method without it
    assert out["ms"]["coarse"] < 0.85 * out["finetune"]["coarse"]
    assert out["msda"]["coarse"] < 0.85 * out["da"]["coarse"]
    # the domain term: station features aligned with the area's, unlike without it
    assert out["da"]["gap"] < 0.6 * out["finetune"]["gap"]
    assert out["msda"]["gap"] < 0.8 * out["ms"]["gap"]
    # four different models
    errors = sorted(out[m]["target"] for m in ("finetune", "ms", "da", "msda"))
    assert min(b - a for a, b in zip(errors, errors[1:], strict=False)) > 0.002
    # with five stations, the methods with the 9 km term improve on the pretrained map
    assert out["ms"]["target"] < out["pretrained"]["target"]
    assert out["msda"]["target"] < out["pretrained"]["target"]
