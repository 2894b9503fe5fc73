"""Tests for gilcompare.reproduce and `gilcompare reproduce`: claims as data, measured tiny."""

from __future__ import annotations

import json
import platform
import sys
import sysconfig

import pytest

from gilcompare import cli, reproduce
from gilcompare.reproduce import cost, measurements
from gilcompare.settings import CLAIM_SEED_ITERATIONS

TINY = 0.02  # of every work size: enough to run each measurement, not to trust its numbers


def test_claims_name_source_number_and_shape() -> None:
    """Every claim from the literature is listed, each with its source, number and shape."""
    assert list(reproduce.CLAIMS) == [
        "seed",
        "beazley",
        "ft-cost-3.13t",
        "ft-cost-3.14t",
        "ft-cost-3.15t",
        "ftscaling",
        "shaw-start",
    ]
    for claim in reproduce.CLAIMS.values():
        assert claim.claim and claim.source and claim.source_number and claim.shape
    assert "12.77" in reproduce.CLAIMS["seed"].source_number
    assert "1.6" in reproduce.CLAIMS["seed"].shape


def test_unknown_claim_exits_2_listing_the_claims(capsys: pytest.CaptureFixture[str]) -> None:
    """A claim that does not exist is one line naming every valid one, and exit 2."""
    assert cli.main(["reproduce", "--claim", "gil-is-gone"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown claim 'gil-is-gone'" in err
    assert all(name in err for name in reproduce.CLAIMS)


def test_claim_needing_a_missing_interpreter_is_not_run() -> None:
    """Without 3.13t the 3.13t cost claim is listed as not run, naming the interpreter."""
    ctx = reproduce.Context({"3.13": sys.executable}, timeout=60, scale=TINY)
    [row] = reproduce.reproduce([reproduce.CLAIMS["ft-cost-3.13t"]], ctx)
    assert row.status == "not run" and "3.13t" in row.reason and row.holds is None
    assert "not run: needs Python 3.13t" in reproduce.text([row])


def test_json_has_the_claim_beside_our_number(capsys: pytest.CaptureFixture[str]) -> None:
    """--json gives one record per claim: theirs, ours, the verdict and the conditions."""
    status = cli.main(["reproduce", "--claim", "seed", "--json", "--scale", str(TINY)])
    rows = json.loads(capsys.readouterr().out)
    assert status == 0 and len(rows) == 1
    row = rows[0]
    assert row["name"] == "seed" and row["status"] == "ok"
    assert row["source_number"].startswith("12.77 s") and row["shape"]
    numbers = row["numbers"]
    assert numbers["ratio"] > 0
    assert numbers["threads_s"] > 0 and numbers["processes_s"] > 0
    conditions = row["conditions"]
    assert conditions["workers"] == 2 and conditions["scaling"] == "weak"
    assert conditions["python"] == platform.python_version()
    assert conditions["free_threaded"] == bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    assert conditions["iterations_per_worker"] < CLAIM_SEED_ITERATIONS
    assert 0 < conditions["capacity"] <= 2.5 and conditions["load_1min"] >= 0
    # the printed seconds give the printed ratio
    assert numbers["ratio"] == pytest.approx(numbers["threads_s"] / numbers["processes_s"])
    two_sided = reproduce.claim.verdict(numbers["ratio_low"], numbers["ratio_high"], 1.6)
    if two_sided is False and conditions["capacity"] < 1.6:  # a busy machine
        assert row["holds"] is None and "inconclusive" in row["ours"]
    else:
        assert row["holds"] is two_sided


def test_seed_ratio_comes_from_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed claim's ratio and interval are engine.unpaired_ratio's of the two time series."""
    from gilcompare.measure import engine

    calls = []

    def fake(num, den):  # type: ignore[no-untyped-def]
        calls.append((list(num), list(den)))
        return engine.Ratio(value=2.5, low=2.0, high=3.0, rounds=0)

    monkeypatch.setattr(measurements.engine, "unpaired_ratio", fake)
    monkeypatch.setattr(measurements, "_machine", lambda ctx: {"capacity": 2.0})
    outcome = measurements.seed(reproduce.Context({}, scale=TINY))
    assert len(calls) == 1 and len(calls[0][0]) == len(calls[0][1]) > 1
    assert outcome.numbers["ratio"] == 2.5 and outcome.holds is True
    assert "2.50× [2.00–3.00]" in outcome.ours


def test_latency_claim_measures_both_switch_intervals() -> None:
    """Beazley's claim times p99 at the default switch interval and at a tenth of it."""
    ctx = reproduce.Context(reproduce.found_interpreters(), timeout=120, scale=TINY)
    [row] = reproduce.reproduce([reproduce.CLAIMS["beazley"]], ctx)
    assert row.status == "ok", row.reason
    p99 = row.numbers["p99_ms"]
    assert set(p99) == {"5.0", "0.5"} and all(v > 0 for v in p99.values())
    assert row.numbers["growth"] == pytest.approx(p99["5.0"] / p99["0.5"])
    assert row.holds == (row.numbers["growth"] >= 2)


def test_failed_measurement_is_a_row_not_a_crash() -> None:
    """A measurement that cannot finish is reported as failed with its reason."""
    ctx = reproduce.Context({}, timeout=0.01, scale=TINY)
    [row] = reproduce.reproduce([reproduce.CLAIMS["seed"]], ctx)
    assert row.status == "failed" and row.reason and row.holds is None


def test_busy_machine_makes_a_parallel_claim_inconclusive() -> None:
    """A miss on a machine that gave two processes less than the bound is no verdict."""
    busy, idle = {"capacity": 1.1}, {"capacity": 1.95}
    assert measurements._judge(False, 1.6, busy)[0] is None
    assert "only 1.10×" in measurements._judge(False, 1.6, busy)[1]
    assert measurements._judge(False, 1.6, idle) == (False, "")
    assert measurements._judge(True, 1.6, busy) == (True, "")


@pytest.mark.parametrize(
    ("low", "high", "lower", "upper", "expected"),
    [
        (0.02, 0.08, None, 0.15, True),  # wholly inside: holds
        (0.18, 0.30, None, 0.15, False),  # wholly above the claim's upper bound: contradicted
        (0.10, 0.20, None, 0.15, None),  # straddles the bound: inconclusive
        (0.25, 0.50, 0.20, None, True),
        (0.01, 0.10, 0.20, None, False),  # wholly below the lower bound
        (0.15, 0.25, 0.20, None, None),
        (0.05, 0.12, 0.05, 0.10, None),
        (None, None, None, 0.15, None),  # one round: no interval, no verdict
    ],
)
def test_verdict_is_two_sided(low, high, lower, upper, expected) -> None:  # type: ignore[no-untyped-def]
    """holds inside the range, contradicted wholly outside, inconclusive across a bound."""
    assert reproduce.claim.verdict(low, high, lower, upper) is expected
    assert reproduce.VERDICTS[expected] in ("holds", "contradicted", "inconclusive")


def _fake_builds(monkeypatch: pytest.MonkeyPatch, gil_version: str) -> None:
    from gilcompare.measure.builds import BuildInfo

    def probe(path: str) -> BuildInfo:
        free = path.endswith("t")
        version = "3.14.7" if free else gil_version
        args = f"'--prefix=/opt/{path}'" + (" '--disable-gil'" if free else "")
        return BuildInfo(
            path=path,
            version=version,
            free_threaded=free,
            config_args=args,
            shared=False,
            prefix=f"/opt/{path}",
        )

    monkeypatch.setattr(cost.builds, "probe", probe)


def test_cost_of_unmatched_builds_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """3.14.7t against a 3.14.0 GIL build is not run, and the row says why."""
    _fake_builds(monkeypatch, "3.14.0")
    monkeypatch.setattr(cost, "compare", lambda **kw: pytest.fail("measured anyway"))
    ctx = reproduce.Context({"3.14": "g", "3.14t": "ft"}, scale=TINY)
    [row] = reproduce.reproduce([reproduce.CLAIMS["ft-cost-3.14t"]], ctx)
    assert row.status == "not run" and row.reason.startswith("refused:")
    assert "3.14.0" in row.reason and "3.14.7" in row.reason


def test_cost_is_paired_and_alternating_through_compare(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cost comes from measure.compare's alternating rounds, its interval from the engine,
    the verdict from that interval; the row records both builds."""
    from gilcompare.measure.compare import Comparison

    _fake_builds(monkeypatch, "3.14.7")
    seen = {}

    def fake_compare(builds, cells, rounds, timeout):  # type: ignore[no-untyped-def]
        seen["builds"] = [(b.label, b.interpreter.path) for b in builds]
        seen["rounds"] = rounds
        rows = []
        for cell in cells:
            for label, times in [
                ("3.14.7", [1.0, 1.0, 1.0, 1.0, 1.0]),
                ("3.14.7t", [1.04, 1.05, 1.06, 1.05, 1.05]),
                ("3.14.7 (A/A)", [1.0, 1.01, 0.99, 1.0, 1.0]),
            ]:
                rows.append(
                    Comparison(
                        python=label,
                        workload=cell.workload,
                        model="serial",
                        workers=1,
                        times=times,
                        seconds=1,
                    )
                )
        return rows

    monkeypatch.setattr(cost, "compare", fake_compare)
    ctx = reproduce.Context({"3.14": "g", "3.14t": "ft"}, scale=TINY)
    [row] = reproduce.reproduce([reproduce.CLAIMS["ft-cost-3.14t"]], ctx)
    assert row.status == "ok", row.reason
    assert seen["builds"] == [("3.14.7", "g"), ("3.14.7t", "ft")] and seen["rounds"] > 1
    ratio = row.numbers["relative"]
    assert ratio["value"] == pytest.approx(1.05)
    assert ratio["low"] < 1.05 < ratio["high"] < 1.15
    assert row.holds is True and row.as_dict()["verdict"] == "holds"
    compared = row.conditions["compared"]
    assert compared["3.14"]["version"] == compared["3.14t"]["version"] == "3.14.7"
    assert compared["3.14t"]["path"] == "ft" and compared["3.14t"]["free_threaded"]


def test_shaw_start_is_paired_through_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every round starts each model once, the order alternating; both ratios and their
    intervals are the engine's, and the verdict is two-sided on both."""
    from gilcompare.measure import engine
    from gilcompare.settings import CLAIM_START_MODELS, CLAIM_START_REPEAT

    starts = []
    seconds = {"threads": 0.001, "subinterpreters": 0.05, "processes-spawn": 0.5}

    def fake_call(target, kwargs, timeout, python=None, env=None):  # type: ignore[no-untyped-def]
        starts.append(kwargs["model"])
        jitter = 1 + 0.01 * (len(starts) % 3)
        return {"seconds": seconds[kwargs["model"]] * jitter, "context": {"python": "x"}}

    calls = []
    real = engine.ratio

    def spy(num, den):  # type: ignore[no-untyped-def]
        calls.append((list(num), list(den)))
        return real(num, den)

    monkeypatch.setattr(measurements, "_start_python", lambda ctx: None)
    monkeypatch.setattr(measurements.isolate, "call", fake_call)
    monkeypatch.setattr(measurements.engine, "ratio", spy)
    outcome = measurements.shaw(reproduce.Context({}))
    models = list(CLAIM_START_MODELS)
    assert starts[: 2 * len(models)] == models + models[::-1]
    assert len(starts) == len(models) * CLAIM_START_REPEAT
    assert len(calls) == 2 and all(len(n) == len(d) == CLAIM_START_REPEAT for n, d in calls)
    sub = outcome.numbers["subinterpreter_per_thread"]
    assert sub["value"] == pytest.approx(50, rel=0.05) and sub["low"] < sub["high"]
    assert outcome.holds is True  # 50× ≥ 30× and 10× ≥ 3×, both intervals well inside
