"""Tests for gilcompare.reproduce and `gilcompare reproduce`: claims as data, measured tiny."""

from __future__ import annotations

import json
import platform
import sys
import sysconfig

import pytest

from gilcompare import cli, reproduce
from gilcompare.reproduce import measurements
from gilcompare.settings import CLAIM_SEED_ITERATIONS

TINY = 0.02  # of every work size: enough to run each measurement, not to trust its numbers


def test_claims_name_source_number_and_shape() -> None:
    """Every claim from the literature is listed, each with its source, number and shape."""
    assert list(reproduce.CLAIMS) == [
        "seed",
        "beazley",
        "ft-cost-3.13t",
        "ft-cost-3.14t",
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
    if row["holds"] is None:  # a busy machine: the verdict says why there is none
        assert conditions["capacity"] < 1.6 and "inconclusive" in row["ours"]
    else:
        assert row["holds"] == (numbers["ratio"] >= 1.6)


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
