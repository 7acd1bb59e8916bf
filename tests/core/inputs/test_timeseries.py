"""Time logic on hand-made series with hand-computed expected values."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from core.errors import InputError
from core.inputs import timeseries as ts

D = dt.date


def modis_dates(years: range) -> list[dt.date]:
    """Terra (doy 1, 17, ...) and Aqua (doy 9, 25, ...) composite dates, unsorted."""
    out = []
    for y in years:
        out += [D(y, 1, 1) + dt.timedelta(days=d) for d in range(0, 365, 16)]
        out += [D(y, 1, 9) + dt.timedelta(days=d) for d in range(0, 357, 16)]
    return out


def test_ndvi_window_full_year_strictly_inside() -> None:
    dates = modis_dates(range(2019, 2022))
    sar = D(2021, 1, 10)
    w = ts.ndvi_window(dates, sar)
    # sar - 365 d = 2020-01-11 (2020 is a leap year): 2020-01-09 is out, 2020-01-17 first;
    # 44 composites in 2020 after it, plus 2021-01-01 and 2021-01-09 -> exactly 46
    assert w.padded == 0
    assert len(w.dates) == 46 and list(w.dates) == sorted(w.dates)
    assert w.dates[0] == D(2020, 1, 17) and w.dates[-1] == D(2021, 1, 9)
    assert w.start == D(2020, 1, 17)
    assert all(dates[i] == d for i, d in zip(w.indices, w.dates, strict=True))
    # one day earlier the composite of 2021-01-09 is not strictly before: 45 + 1 padded
    w2 = ts.ndvi_window(dates, D(2021, 1, 9))
    assert w2.padded == 1 and w2.dates[:2] == (D(2020, 1, 17),) * 2
    assert w2.dates[-1] == D(2021, 1, 1)


def test_ndvi_window_lower_bound_is_exclusive() -> None:
    sar = D(2021, 6, 1)
    dates = [sar - dt.timedelta(days=365), sar - dt.timedelta(days=364), sar]
    w = ts.ndvi_window(dates, sar)
    assert set(w.dates) == {sar - dt.timedelta(days=364)}
    assert w.padded == 45


def test_ndvi_window_pads_with_oldest_and_reports() -> None:
    sar = D(2001, 3, 1)
    dates = [D(2001, 1, 1), D(2000, 12, 26), D(2001, 1, 9), D(2001, 2, 18)]
    w = ts.ndvi_window(dates, sar)
    assert w.padded == 42
    assert w.dates[:43] == (D(2000, 12, 26),) * 43
    assert w.dates[43:] == (D(2001, 1, 1), D(2001, 1, 9), D(2001, 2, 18))
    assert w.indices[:43] == (1,) * 43
    assert w.unique_indices == (1, 0, 2, 3)
    stack = ts.stack_ndvi(np.array([[10.0], [20.0], [30.0], [40.0]]), w)
    assert stack.shape == (46, 1)
    assert stack[0, 0] == 20 and stack[42, 0] == 20 and stack[43, 0] == 10 and stack[45, 0] == 40


def test_ndvi_window_keeps_latest_46_and_rejects_empty() -> None:
    sar = D(2021, 1, 1)
    dates = [sar - dt.timedelta(days=k) for k in range(1, 60)]  # 59 daily "composites"
    w = ts.ndvi_window(dates, sar)
    assert w.padded == 0 and w.dates[-1] == D(2020, 12, 31) and w.dates[0] == D(2020, 11, 16)
    with pytest.raises(InputError, match="no MODIS NDVI composite"):
        ts.ndvi_window([D(2010, 1, 1)], sar)


def test_era5_window_block_means_by_hand() -> None:
    start = D(2020, 1, 17)
    days = ts.era5_days(start)
    assert len(days) == 368 and days[-1] == D(2021, 1, 18)
    daily = np.arange(368, dtype=float)  # day k has value k
    means, missing = ts.era5_window(daily, days, start)
    assert missing == 0 and means.shape == (46,)
    # block b = mean(8b .. 8b+7) = 8b + 3.5
    np.testing.assert_allclose(means, 8 * np.arange(46) + 3.5)


def test_era5_window_missing_days_and_nan() -> None:
    start = D(2020, 1, 1)
    days = [start + dt.timedelta(days=k) for k in range(-5, 365)]  # ends 3 days short
    daily = np.ones((len(days), 2)) * np.arange(len(days))[:, None]
    daily[5, 1] = np.nan  # the window's first day, pixel 1
    means, missing = ts.era5_window(daily, days, start)
    assert missing == 3
    # window day k is stored at index k+5; block 0 = mean(5..12) = 8.5; pixel 1 without 5 -> 9
    assert means[0, 0] == pytest.approx(8.5) and means[0, 1] == pytest.approx(9.0)
    # last block: window days 360..364 present (values 365..369), 365..367 missing -> 367
    assert means[45, 0] == pytest.approx(367.0)
    none = ts.era5_window(daily[:10], days[:10], D(2022, 1, 1))
    assert none[1] == 368 and np.isnan(none[0]).all()


def test_clip_precipitation() -> None:
    out = ts.clip_precipitation(np.array([-1e-9, 0.0, 0.002, np.nan]))
    assert out[0] == 0 and out[2] == pytest.approx(0.002) and np.isnan(out[3])
    assert out.dtype == np.float32


def test_combine_am_pm_bias_by_hand() -> None:
    am = np.array([0.20, 0.30, np.nan, 0.25, 1.5])
    pm = np.array([0.10, 0.24, 0.18, np.nan, 0.20])
    qc_am = np.array([0, 0, 0, 0, 0])
    qc_pm = np.array([0, 0, 0, 0, 1])
    daily, bias = ts.combine_am_pm(am, pm, qc_am, qc_pm)
    # both valid on days 0 and 1: bias = mean(0.10, 0.06) = 0.08
    assert float(bias) == pytest.approx(0.08)
    np.testing.assert_allclose(daily[:4], [0.19, 0.31, 0.26, 0.25])
    assert np.isnan(daily[4])  # AM out of range, PM failed QC


def test_combine_am_pm_without_overlap_uses_am_only() -> None:
    am = np.array([[0.2, np.nan], [np.nan, np.nan]])
    pm = np.array([[np.nan, 0.3], [0.4, -0.1]])
    daily, bias = ts.combine_am_pm(am, pm)
    assert np.isnan(bias).all()
    assert daily[0, 0] == pytest.approx(0.2) and np.isnan(daily[0, 1]) and np.isnan(daily[1]).all()


def test_interpolate_by_hand() -> None:
    days = [D(2021, 5, 1) + dt.timedelta(days=k) for k in range(6)]
    s = np.array(
        [
            [0.10, np.nan],
            [np.nan, 0.3],
            [np.nan, np.nan],
            [0.40, np.nan],
            [np.nan, 0.5],
            [0.2, np.nan],
        ]
    )
    v = ts.interpolate_to_date(s, days, D(2021, 5, 3))
    # pixel 0: between 05-01 (0.1) and 05-04 (0.4), 2/3 of the way -> 0.3
    # pixel 1: between 05-02 (0.3) and 05-05 (0.5), 1/3 of the way -> 0.3667
    np.testing.assert_allclose(v, [0.3, 0.3 + 0.2 / 3], rtol=1e-6)
    exact = ts.interpolate_to_date(s, days, D(2021, 5, 4))
    assert exact[0] == pytest.approx(0.4)
    edge = ts.interpolate_to_dates(s, days, [D(2021, 4, 30), D(2021, 5, 6), D(2021, 5, 3)], 2)
    assert np.isnan(edge[0]).all()  # nothing before
    assert edge[1, 0] == pytest.approx(0.2) and np.isnan(edge[1, 1])  # nothing after for px 1
    assert np.isnan(edge[2]).all()  # gaps of 3 days > 2
    with pytest.raises(InputError):
        ts.interpolate_to_date(s, days[::-1], D(2021, 5, 3))
