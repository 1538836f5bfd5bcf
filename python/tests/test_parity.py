"""`python -m cssdbg_torch eval --json` against `cssdbg eval --json` on the samples (docs/numerics.md §9),
at the defaults and at `--silent 0 --no-negative`, and with a θ file from `cssdbg tune`."""

import json

import pytest

from conftest import (NEW_TOP, SAMPLES, assert_reports_agree, binary_has_attribution, binary_has_new_fields,
                      cssdbg_binary, py_cli, py_eval, run, swift_eval, without_new_fields)

NO_FIELDS = "the cssdbg binary's eval --json has no css-spec §10-§12 fields (macs, anytime_accuracy, ...): build one that does"

# ResNet on a prefix of its data keeps the stage at a few minutes on 2 cores (debug binary).
CASES = [("coupling", []), ("digits-mlp", []), ("digits-cnn", []), ("digits-resnet", ["--limit", "120"])]
CONFIGS = {"defaults": [], "silent0-no-negative": ["--silent", "0", "--no-negative"]}


@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("sample,extra", CASES, ids=[c[0] for c in CASES])
def test_eval_agrees_with_cssdbg(sample, extra, config):
    args = [str(SAMPLES / sample), *extra, *CONFIGS[config]]
    ours, theirs = py_eval(*args), swift_eval(*args)
    assert ours["samples"] > 0
    assert_reports_agree(ours, theirs, f"{sample} {config}")


def test_same_keys_and_types_as_cssdbg():
    ours = py_eval(str(SAMPLES / "digits-cnn"), "--limit", "20")
    theirs = swift_eval(str(SAMPLES / "digits-cnn"), "--limit", "20")

    def shape(v):
        if isinstance(v, dict):
            return {k: shape(x) for k, x in v.items()}
        if isinstance(v, list):
            return [shape(v[0])] * len(v) if v else []
        return "number" if isinstance(v, (int, float)) and not isinstance(v, bool) else type(v).__name__

    if not binary_has_new_fields():
        ours = without_new_fields(ours)
    assert shape(ours) == shape(theirs)


@pytest.mark.parametrize("sample,extra", [("digits-cnn", ["--limit", "120"]), ("coupling", []),
                                          ("digits-resnet", ["--limit", "60", "--silent", "0"])])
def test_new_fields_agree_with_cssdbg(sample, extra):
    """anytime accuracy, settled_by_slot, MACs, synaptic operations and energy (§11, §12) as
    cssdbg computes them."""
    if not binary_has_new_fields():
        pytest.skip(NO_FIELDS)
    args = [str(SAMPLES / sample), *extra]
    ours, theirs = py_eval(*args), swift_eval(*args)
    assert all(k in theirs for k in NEW_TOP)
    assert_reports_agree(ours, theirs, sample)


@pytest.mark.parametrize("sample,extra", [("digits-cnn", ["--limit", "60"]), ("coupling", [])])
def test_attribution_agrees_with_cssdbg(sample, extra):
    """--attribution (§10): decoupled accuracies, the exact-prefix curve and the culprits."""
    if not binary_has_new_fields():
        pytest.skip(NO_FIELDS)
    if not binary_has_attribution():
        pytest.skip("the cssdbg binary's eval has no --attribution (css-spec §10)")
    args = [str(SAMPLES / sample), "--attribution", *extra]
    ours, theirs = py_eval(*args), swift_eval(*args)
    assert "culprit_basis" in theirs
    assert_reports_agree(ours, theirs, sample + " --attribution")


def test_energy_flags_like_cssdbg():
    args = [str(SAMPLES / "digits-mlp"), "--limit", "10", "--e-mac", "3.1", "--e-ac", "0.05"]
    ours = py_eval(*args)
    assert ours["e_mac_pj"] == 3.1 and ours["e_ac_pj"] == 0.05
    if not binary_has_new_fields():
        pytest.skip(NO_FIELDS)
    assert_reports_agree(ours, swift_eval(*args), "--e-mac 3.1 --e-ac 0.05")


def test_theta_from_cssdbg_tune_gives_the_same_numbers(tmp_path):
    theta = tmp_path / "tuned.json"
    bundle = SAMPLES / "digits-cnn"
    run([cssdbg_binary(), "tune", bundle, "--rounds", "2", "-T", "6", "--out", theta])
    doc = json.loads(theta.read_text())
    assert doc["config"]["T"] == 6
    ours, theirs = py_eval(str(bundle), "--theta", str(theta)), swift_eval(str(bundle), "--theta", str(theta))
    assert ours["config"]["T"] == 6, "the θ file's config applies"
    for lo, lt in zip(ours["layers"], theirs["layers"]):
        assert lo["theta"] == lt["theta"] == doc["theta"][lo["tensor"]]
    assert_reports_agree(ours, theirs, "tuned θ")


def test_a_theta_file_of_another_model_is_refused_like_cssdbg(tmp_path):
    theta = tmp_path / "cnn.json"
    run([cssdbg_binary(), "tune", SAMPLES / "digits-cnn", "--rounds", "1", "--limit", "10", "--out", theta])
    rc, out, err = py_cli("eval", SAMPLES / "digits-mlp", "--theta", theta)
    theirs = run([cssdbg_binary(), "eval", SAMPLES / "digits-mlp", "--theta", theta], check=False)
    assert rc == 1 and theirs.returncode == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.strip().split(": ", 1)[1] == theirs.stderr.strip().split(": ", 1)[1]
