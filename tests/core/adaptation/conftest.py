"""Fixtures of the adaptation tests: three published members and a domain-shift problem."""

from __future__ import annotations

import pytest

from core.model.ensemble import Ensemble

from ..domain_shift import Problem, make_problem

SMALL = ("coarse_1_8", "coarse_2_8", "coarse_1_16")


@pytest.fixture(scope="module")
def small(published) -> Ensemble:
    return Ensemble.from_state_dicts({k: published[k] for k in SMALL}, name="small")


@pytest.fixture(scope="module")
def problem(small):
    return make_problem(lambda x: small.predict(x).mean, n_stations=3, dates=30, seed=1)


def all_sets(problem: Problem) -> tuple:
    """``adapt``'s positional sample sets of a problem: fine x and y, coarse x and y, target."""
    return (
        problem.fine_x,
        problem.fine_y,
        problem.coarse_x,
        problem.coarse_y,
        problem.target_x,
    )
