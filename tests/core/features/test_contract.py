"""The input contract on hand-computed cases, and the docs generated from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import InputError
from core.features import contract

DOC = Path(__file__).resolve().parents[3] / "docs" / "input-contract.md"


def test_layout():
    assert contract.N_NORMALISED == 153 and contract.N_INPUTS == 156
    assert len(contract.VARIABLES) == 153
    assert [v.index for v in contract.VARIABLES] == list(range(153))
    assert contract.VARIABLES[15].name == "ndvi_00" and contract.VARIABLES[60].name == "ndvi_45"
    assert contract.VARIABLES[61].name == "t2m_00" and contract.VARIABLES[107].name == "tp_00"
    assert contract.SAMPLE_COLUMNS[0] == "0" and contract.SAMPLE_COLUMNS[-1] == "152"


def test_normalise_hand_computed():
    raw = np.zeros((1, 153))
    raw[0, 0] = -12.0  # VV dB: (-12 + 30) / 35
    raw[0, 1] = -40.0  # VH below the range: clipped to 0
    raw[0, 2] = 46.0  # angle at the top of the range
    raw[0, 7] = 140.0  # bulk density: (140 - 100) / 80
    raw[0, 8] = 275.0  # elevation: 275 / 5500
    raw[0, 15] = 5000.0  # NDVI x 10000: (5000 + 2000) / 12000
    raw[0, 61] = 290.0  # temperature K: (290 - 263.15) / 45
    raw[0, 107] = 0.006  # precipitation m/day: 0.006 / 0.3
    n = contract.normalise(raw)[0]
    assert n[0] == pytest.approx(18 / 35)
    assert n[1] == 0.0
    assert n[2] == pytest.approx(1.0)
    assert n[7] == pytest.approx(0.5)
    assert n[8] == pytest.approx(0.05)
    assert n[15] == pytest.approx(7000 / 12000)
    assert n[61] == pytest.approx(26.85 / 45, rel=1e-6)
    assert n[107] == pytest.approx(0.02)
    # sin/cos terms in [-1, 1] map to [0, 1]
    assert n[3] == pytest.approx(0.5) and n[4] == pytest.approx(0.5)
    back = contract.denormalise(n[None])[0]
    assert back[0] == pytest.approx(-12.0, abs=1e-4)


def test_model_inputs_insert_series_means_after_index_14():
    norm = np.zeros((2, 153), np.float32)
    norm[:, :15] = np.arange(15) / 100
    norm[0, 15:61] = np.linspace(0, 1, 46)  # NDVI ramp: mean 0.5
    norm[0, 61:107] = 0.25
    norm[0, 107:153] = np.r_[np.ones(23), np.zeros(23)]  # mean 0.5
    x = contract.to_model_inputs(norm)
    assert x.shape == (2, 156)
    np.testing.assert_allclose(x[0, :15], np.arange(15) / 100, rtol=1e-6)
    assert (
        x[0, 15] == pytest.approx(0.5)
        and x[0, 16] == pytest.approx(0.25)
        and x[0, 17] == pytest.approx(0.5)
    )
    np.testing.assert_array_equal(x[0, 18:], norm[0, 15:])
    snap, series = contract.split_model_inputs(x)
    assert snap.shape == (2, 18) and series.shape == (2, 138)
    np.testing.assert_allclose(contract.series_means(series), x[:, 15:18])


def test_raw_snapshot_terms():
    raw = contract.raw_snapshot(
        vv=-10,
        vh=-17,
        angle=38,
        doy=91.25,
        sand=400,
        clay=200,
        bdod=140,
        elevation=300,
        slope=2,
        aspect=90,
        row9=170,
        col9=964,
    )
    assert raw.shape == (15,)
    assert raw[3] == pytest.approx(1.0)  # sin(2 pi 91.25 / 365)
    assert raw[4] == pytest.approx(0.0, abs=1e-12)
    assert raw[10] == pytest.approx(1.0) and raw[11] == pytest.approx(0.0, abs=1e-12)
    assert raw[12] == pytest.approx(171 / 1624)  # rows counted from 1
    assert raw[13] == pytest.approx(1.0)  # sin(2 pi 964 / 3856) = sin(pi / 2)


def test_bad_shapes_are_refused():
    with pytest.raises(InputError, match="153"):
        contract.normalise(np.zeros((2, 152)))
    with pytest.raises(InputError, match="153"):
        contract.to_model_inputs(np.zeros((2, 152)))


def test_docs_table_is_generated_from_the_code():
    text = DOC.read_text(encoding="utf-8")
    start = text.index("<!-- contract-table:start -->\n") + len("<!-- contract-table:start -->\n")
    end = text.index("<!-- contract-table:end -->")
    assert text[start:end] == contract.markdown_table()


def test_docs_layout_table_is_generated_from_the_code():
    text = DOC.read_text(encoding="utf-8")
    start = text.index("<!-- layout-table:start -->\n") + len("<!-- layout-table:start -->\n")
    end = text.index("<!-- layout-table:end -->")
    assert text[start:end] == contract.layout_markdown()


def test_layouts_map_raw_variables_by_hand():
    raw = np.zeros((1, 153))
    raw[0, :15] = [-12, -18, 37.55, 1.0, 0.0, 400, 200, 140, 550, 4, 1.0, 0.0, 0.25, 0.0, -1.0]
    raw[0, 107:153] = 0.002  # 2 mm/day
    pub = contract.DENSESM_9KM.normalise(raw)[0]
    a50 = contract.AUTHORS_50M.normalise(raw)[0]
    np.testing.assert_array_equal(a50, contract.normalise(raw)[0])  # the raw contract
    expect_pub = [18 / 35, 17 / 35, (37.55 - 29.1) / 16.9, 0.4, 0.2, 0.5, 0.1, 0.1,
                  1.0, 0.5, 0.25, 0.5, 0.0, 1.0, 0.5]  # fmt: skip
    np.testing.assert_allclose(pub[:15], expect_pub, atol=1e-6)
    assert a50[12] == pytest.approx(0.625) and a50[3] == pytest.approx(1.0)
    assert pub[107] == pytest.approx(0.02 / 0.3) and a50[107] == pytest.approx(0.002 / 0.3)
    assert contract.DENSESM_9KM.physical(17, float(pub[107])) == pytest.approx(0.002)
    assert contract.DENSESM_9KM.physical(10, 0.25) == pytest.approx(0.25)
    assert contract.DENSESM_9KM.input_names[13:] == ("doy_sin", "doy_cos", "ndvi_mean",
                                                      "t2m_mean", "tp_mean")  # fmt: skip


def test_layout_lookup_and_validation():
    assert contract.get_layout(None) is contract.PUBLISHED_LAYOUT
    assert contract.get_layout("authors_50m") is contract.AUTHORS_50M
    with pytest.raises(InputError, match="unknown input layout"):
        contract.get_layout("nope")
    with pytest.raises(ValueError, match="snapshot"):
        contract.InputLayout("x", "x", contract.SNAPSHOT_NAMES[:-1] + ("vv",),
                             contract.AUTHORS_50M.ranges)  # fmt: skip
