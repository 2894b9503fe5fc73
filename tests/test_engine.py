"""Tests for gilcompare.measure.engine: the one estimator behind every speedup."""

from __future__ import annotations

import statistics

import pytest

from gilcompare.asv import grids
from gilcompare.measure import engine
from gilcompare.measure.cells import Cell, measure


def test_speedup_is_the_median_of_paired_ratios() -> None:
    """One disturbed round moves a mean of ratios and a ratio of medians; not this."""
    serial = [2.0, 2.0, 2.0, 2.0, 9.0]
    model = [1.0, 1.0, 1.0, 1.0, 1.0]
    assert engine.speedup(serial, model) == 2.0
    # pairing matters: the same timings paired otherwise give another estimate
    assert engine.speedup([2.0, 3.0, 9.0], [1.0, 4.0, 1.0]) == 2.0
    assert engine.speedup([2.0, 3.0, 9.0], [4.0, 1.0, 1.0]) == 3.0
    assert engine.relative_time(model, serial) == 0.5
    assert engine.speedup([], []) is None


def test_rounds_must_pair_up() -> None:
    """Timings that do not pair round by round are a bug, not a number."""
    with pytest.raises(ValueError, match="pair up"):
        engine.speedup([1.0, 2.0], [1.0])


def test_order_alternates() -> None:
    """Neither side always runs first."""
    assert [engine.candidate_first(r) for r in range(4)] == [True, False, True, False]


def test_gil_in_workers_is_any_worker() -> None:
    """One worker with the GIL on is enough to say the GIL was on; no worker says nothing."""
    assert engine.gil_in_workers([{"gil_enabled": False}, {"gil_enabled": True}]) is True
    assert engine.gil_in_workers([{"gil_enabled": False}] * 2) is False
    assert engine.gil_in_workers([]) is None


def test_ideal() -> None:
    """Waiting work is bounded by the workers, CPU work by the cores too."""
    assert engine.ideal_speedup(False, 8, 2) == 2
    assert engine.ideal_speedup(True, 8, 2) == 8


def test_cli_and_asv_grid_give_the_same_speedup_on_the_same_timings() -> None:
    """`gilcompare run` (measure) and the asv grids (gilcompare.asv.grids) estimate with one
    function."""
    result = measure(Cell(workload="count", model="threads", workers=2, profile="tiny", repeat=3))
    assert result.status == "ok" and result.rounds == 3
    assert result.estimator == engine.ESTIMATOR
    # the estimate worked out here, from the timings, as the median of per-round ratios
    ratios = [s / t for s, t in zip(result.serial_times, result.times)]
    expected = statistics.median(ratios)
    assert result.speedup == pytest.approx(expected)
    assert result.efficiency == pytest.approx(expected / result.ideal)
    cell = grids.GridResult(workload="count", model="threads", workers=2, ideal=result.ideal)
    cell.serial_times, cell.times = list(result.serial_times), list(result.times)
    grids._speedup(cell)
    assert cell.speedup == pytest.approx(expected, abs=1e-4)
    assert cell.efficiency == pytest.approx(expected / result.ideal, abs=1e-4)
    # and not the old ratio of medians, which these skewed timings tell apart
    skewed = grids.GridResult(workload="count", model="threads", workers=2, ideal=2)
    skewed.serial_times, skewed.times = [2.0, 3.0, 9.0], [1.0, 4.0, 1.0]
    grids._speedup(skewed)
    assert skewed.speedup == 2.0  # the ratio of medians would say 3.0


def test_control_times_serial_against_serial() -> None:
    """The A/A control is paired like any model, so its ratio is near 1 and it says so."""
    r = measure(
        Cell(workload="count", model="serial", workers=2, profile="tiny", repeat=3, control=True)
    )
    assert r.status == "ok" and r.control and len(r.serial_times) == 3
    assert r.speedup is not None and 0.5 < r.speedup < 2.0
    with pytest.raises(ValueError, match="serial"):
        Cell(workload="count", model="threads", workers=2, control=True).validate()


def test_interval_is_a_t_interval_on_log_ratios() -> None:
    """Two rounds at 2.0× and 2.2×: the geometric mean ± t(1) · s / √2 on the log scale."""
    import math

    logs = [math.log(2.0), math.log(2.2)]
    half = 12.706 * abs(logs[1] - logs[0]) / math.sqrt(2) / math.sqrt(2)
    low, high = engine.interval([2.0, 2.2], [1.0, 1.0])
    assert low == pytest.approx(math.exp(sum(logs) / 2 - half))
    assert high == pytest.approx(math.exp(sum(logs) / 2 + half))
    # the inverse ratio gets the mirrored interval
    inv_low, inv_high = engine.interval([1.0, 1.0], [2.0, 2.2])
    assert inv_low == pytest.approx(1 / high) and inv_high == pytest.approx(1 / low)


def test_interval_narrows_with_rounds_and_is_absent_with_one() -> None:
    """More rounds of the same spread know more; one round knows no spread at all."""
    three = engine.ratio([2.0, 2.2, 1.8], [1.0] * 3)
    six = engine.ratio([2.0, 2.2, 1.8] * 2, [1.0] * 6)
    assert three is not None and six is not None
    assert three.low < six.low < 2.0 < six.high < three.high
    one = engine.ratio([2.0], [1.0])
    assert one is not None and one.value == 2.0 and one.low is None and one.high is None
    assert engine.interval([2.0], [1.0]) is None


def test_t_quantiles() -> None:
    """Table values for small df, the expansion beyond; fractional df errs wide."""
    assert engine.t_quantile(1) == 12.706
    assert engine.t_quantile(4) == 2.776
    assert engine.t_quantile(4.7) == 2.776
    assert engine.t_quantile(60) == pytest.approx(2.000, abs=1e-3)
    assert engine.t_quantile(120) == pytest.approx(1.980, abs=1e-3)
    with pytest.raises(ValueError, match="degree"):
        engine.t_quantile(0)


def test_unpaired_ratio_is_the_ratio_of_medians_with_a_wider_interval() -> None:
    """Unpaired timings: the printed medians give the ratio exactly; the interval is Welch's."""
    est = engine.unpaired_ratio([2.0, 2.2, 1.8], [1.0, 1.1, 0.9])
    assert est is not None and est.value == 2.0 and est.rounds == 0
    assert est.low < 2.0 < est.high
    paired = engine.ratio([2.0, 2.2, 1.8], [1.0, 1.1, 0.9])
    assert paired is not None and paired.high - paired.low < est.high - est.low
    assert engine.unpaired_ratio([2.0], [1.0]) == engine.Ratio(
        value=2.0, low=None, high=None, rounds=0
    )


def test_format_ratio() -> None:
    """A number and its interval travel together."""
    assert engine.format_ratio(1.934, 1.881, 1.979) == "1.93× [1.88–1.98]"
    assert engine.format_ratio(1.934, None, None) == "1.93×"
    assert engine.format_ratio(None, None, None) == ""


def test_run_results_carry_the_interval() -> None:
    """A paired run result has speedup_low ≤ speedup ≤ speedup_high from the engine."""
    r = measure(Cell(workload="count", model="threads", workers=2, profile="tiny", repeat=3))
    assert r.status == "ok" and r.interval == engine.INTERVAL
    assert (r.speedup_low, r.speedup_high) == engine.interval(r.serial_times, r.times)


def test_unpaired_fallback_goes_through_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """`run --unpaired` takes its speedup and interval from engine.unpaired_ratio."""
    from gilcompare.measure.cells import Result

    calls = []

    def fake(num, den):  # type: ignore[no-untyped-def]
        calls.append((list(num), list(den)))
        return engine.Ratio(value=7.0, low=6.0, high=8.0, rounds=0)

    monkeypatch.setattr(engine, "unpaired_ratio", fake)
    serial = Result(
        workload="count",
        model="serial",
        workers=1,
        scaling="strong",
        mode="warm",
        status="ok",
        times=[2.0],
        seconds=2.0,
    )
    cell = Result(
        workload="count",
        model="threads",
        workers=2,
        scaling="strong",
        mode="warm",
        status="ok",
        times=[1.0],
        seconds=1.0,
    )
    cell.ideal = 2
    cell.compare(serial)
    assert calls == [([2.0], [1.0])]
    assert (cell.speedup, cell.speedup_low, cell.speedup_high) == (7.0, 6.0, 8.0)
    assert cell.efficiency == 3.5 and cell.estimator == engine.UNPAIRED_ESTIMATOR


def test_gil_verdict_is_any_report_and_ignores_no_report() -> None:
    """`compare` folds its rounds' GIL reports with the same rule as the workers' reports."""
    assert engine.gil_verdict([None, False, True]) is True
    assert engine.gil_verdict([False, None]) is False
    assert engine.gil_verdict([None, None]) is None
    assert engine.gil_verdict([]) is None


def test_t_quantiles_beyond_the_table_are_within_a_ten_thousandth() -> None:
    """The expansion past 30 df gives Student's t (tables: 2.03951 at 31, 2.00856 at 50,
    1.96234 at 1000) within 1e-4, and these exact values (a change to any term moves them)."""
    assert engine.t_quantile(31) == pytest.approx(2.039513, abs=1e-4)
    assert engine.t_quantile(50) == pytest.approx(2.008559, abs=1e-4)
    assert engine.t_quantile(1000) == pytest.approx(1.962339, abs=1e-6)
    assert engine.t_quantile(31) == pytest.approx(2.0394259, abs=1e-6)
    assert engine.t_quantile(50) == pytest.approx(2.0085384, abs=1e-6)
    assert engine.t_quantile(30) == 2.042 and engine.t_quantile(30.9) == 2.042


def test_welch_interval_of_unequal_sides() -> None:
    """Five timings against three, and forty against thirty-six: the Welch-Satterthwaite
    degrees of freedom (2.38 and 49.9, floored) pick the t quantile; values worked out by hand
    from the sample variances of the log times."""
    few = engine.unpaired_ratio([2.0, 2.2, 1.8, 2.1, 2.05], [1.0, 1.3, 0.9])
    assert few is not None and few.value == pytest.approx(2.05) and few.rounds == 0
    assert few.low == pytest.approx(1.1753082120, rel=1e-9)
    assert few.high == pytest.approx(3.1439115786, rel=1e-9)
    many = engine.unpaired_ratio([2.0, 2.2, 1.8, 2.1, 2.05] * 8, [1.0, 1.3, 0.9, 1.1] * 9)
    assert many is not None and many.value == pytest.approx(2.05 / 1.05)
    assert many.low == pytest.approx(1.8076734040, rel=1e-9)
    assert many.high == pytest.approx(2.0006452767, rel=1e-9)


def test_unpaired_edge_cases() -> None:
    """Zero timings are dropped, not divided by; one side empty gives nothing; one timing a
    side gives no interval; identical timings give an interval of no width."""
    est = engine.unpaired_ratio([0.0, 0.4, 0.6], [0.2, 0.0, 0.0])
    assert est is not None and est.value == pytest.approx(2.5)
    assert engine.unpaired_ratio([], [1.0]) is None
    assert engine.unpaired_ratio([1.0], []) is None
    assert engine.unpaired_ratio([2.0, 2.0, 2.2], [1.0]) == engine.Ratio(2.0, None, None, 0)
    assert engine.unpaired_ratio([1.0], [0.5, 0.5, 0.6]) == engine.Ratio(2.0, None, None, 0)
    two = engine.unpaired_ratio([2.0, 2.2], [1.0, 1.1])
    assert two is not None and two.low is not None and two.high is not None
    assert engine.unpaired_ratio([2.0, 2.0], [1.0, 1.0]) == engine.Ratio(2.0, 2.0, 2.0, 0)


def test_ratio_record_and_text() -> None:
    """A ratio travels as its value, interval and rounds, and prints with its interval."""
    r = engine.Ratio(1.934, 1.881, 1.979, 5)
    assert r.record() == {"value": 1.934, "low": 1.881, "high": 1.979, "rounds": 5}
    assert str(r) == "1.93× [1.88–1.98]"
    assert engine.format_ratio(1.0, 0.9, None) == "1.00×"
    assert engine.format_ratio(1.0, None, 1.1) == "1.00×"


def test_zero_timings_are_skipped_and_efficiency_needs_both() -> None:
    """A zero reference time is no round; efficiency is speedup over ideal, or nothing."""
    assert engine.speedup([1.0, 2.0, 3.0], [0.0, 1.0, 1.0]) == 2.5
    assert engine.paired_ratios([1.0, 2.0], [0.0, 4.0]) == [0.5]
    assert engine.relative_time([], []) is None
    assert engine.efficiency(3.0, 2) == 1.5
    assert engine.efficiency(None, 2) is None
    assert engine.efficiency(3.0, None) is None and engine.efficiency(3.0, 0) is None


def test_welch_below_two_degrees_of_freedom_uses_one() -> None:
    """One side with almost all the variance: df near 1, so t(1) = 12.706 sets the width."""
    est = engine.unpaired_ratio([2.0, 3.0], [1.0, 1.0001])
    assert est is not None
    assert est.low == pytest.approx(0.1863571709, rel=1e-9)
    assert est.high == pytest.approx(32.193019626, rel=1e-9)


def test_interval_skips_a_zero_ratio() -> None:
    """A round whose candidate took no time has no log ratio: it is left out, not a crash."""
    assert engine.interval([0.0, 2.0, 2.0], [1.0, 1.0, 1.0]) == (2.0, 2.0)
