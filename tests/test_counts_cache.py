"""The counts cache: counted once, read back exactly, recounted when the environment changes."""
import json
import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import helpers.counting.cache as cache_module
import helpers.counting.ops as ops
import helpers.models.zoo as zoo
from helpers.core.paths import COUNTS_CACHE_DIR, REPO_ROOT, counts_cache_dir
from helpers.counting.cache import CountsCache, model_rows, resolved, traffic_row
from helpers.counting.table import count_table


def _fake_row(spec, thop):
    row = {"model": spec.name, "input_size": spec.input_size, "source": spec.source, "params": 7,
           "gmacs": 0.1 + 0.2, "gops": 1 / 3, "gops_2016": 2 / 3, "torchvision_gmacs": math.nan}
    if thop:
        row.update(thop_gmacs=math.nan, thop_params=pd.NA, thop_error="RuntimeError: no")
    return row


@pytest.fixture
def counted(monkeypatch):
    """``count_model`` replaced by a stand-in that records the models it is asked to count."""
    calls = []

    def count_model(spec, thop=True):
        calls.append((spec.name, thop))
        return _fake_row(spec, thop)

    monkeypatch.setattr(ops, "count_model", count_model)
    return calls


def _no_model_building(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a warm cache built or resolved a model")

    for module, name in ((zoo, "build_model"), (zoo, "resolve_models"), (zoo, "get_spec"), (ops, "build_model"),
                         (ops, "count_model"), (ops, "count_traffic")):
        monkeypatch.setattr(module, name, refuse)


def test_tests_keep_the_cache_out_of_the_repository(monkeypatch):
    assert REPO_ROOT not in counts_cache_dir().parents
    monkeypatch.delenv("COUNTS_CACHE_DIR")
    assert counts_cache_dir() == COUNTS_CACHE_DIR == REPO_ROOT / ".cache" / "counts"
    assert "/.cache/" in (REPO_ROOT / ".gitignore").read_text().splitlines()


def test_a_miss_counts_and_a_hit_builds_no_model(tmp_path, monkeypatch):
    models = ["AlexNet", "ResNet-18"]
    cold = count_table(models, thop=True, progress=False, cache=CountsCache(tmp_path))
    assert len(list(tmp_path.glob("counts-*.json"))) == 1
    _no_model_building(monkeypatch)
    warm = count_table(models, thop=True, progress=False, cache=CountsCache(tmp_path))
    pd.testing.assert_frame_equal(warm, cold, check_exact=True)
    assert list(warm.columns) == list(cold.columns) and list(warm.dtypes) == list(cold.dtypes)
    assert warm.to_csv(float_format="%.17g") == cold.to_csv(float_format="%.17g")
    # without thop, the thop rows give the same counts as counting again would
    no_thop = count_table(models, thop=False, progress=False, cache=CountsCache(tmp_path))
    assert "thop_gmacs" not in no_thop.columns
    pd.testing.assert_frame_equal(no_thop[["model", "params", "gmacs", "gops", "gops_2016"]],
                                  cold[["model", "params", "gmacs", "gops", "gops_2016"]], check_exact=True)


def test_the_cached_rows_are_count_models_rows(tmp_path):
    rows = model_rows(["ResNet-18"], thop=False, progress=False, cache=CountsCache(tmp_path))
    again = model_rows(["ResNet-18"], thop=False, progress=False, cache=CountsCache(tmp_path))
    fresh = ops.count_model("ResNet-18", thop=False)
    assert rows == again == [fresh]
    assert [type(v) for v in again[0].values()] == [type(v) for v in fresh.values()]


def test_a_warm_table_imports_no_torch(tmp_path):
    count_table(["ResNet-18"], thop=False, progress=False, cache=CountsCache(tmp_path))
    code = ("import sys; from helpers.counting.table import count_table; "
            "t = count_table(['ResNet-18'], thop=False, progress=False); "
            "assert 'torch' not in sys.modules, 'torch imported'; print(t.loc[0, 'gops'])")
    env = {**os.environ, "COUNTS_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == ops.count_model("ResNet-18", thop=False)["gops"]


def test_counted_once_per_environment(tmp_path, monkeypatch, counted):
    model_rows(["ResNet-18"], progress=False, cache=CountsCache(tmp_path))
    model_rows(["ResNet-18"], progress=False, cache=CountsCache(tmp_path))
    model_rows(["ResNet-18"], thop=False, progress=False, cache=CountsCache(tmp_path))  # the thop row serves
    assert counted == [("ResNet-18", True)]
    versions = cache_module.library_versions()
    monkeypatch.setattr(cache_module, "library_versions", lambda: {**versions, "torch": "0.0.1"})
    model_rows(["ResNet-18"], progress=False, cache=CountsCache(tmp_path))
    assert counted == [("ResNet-18", True)] * 2
    monkeypatch.setattr(cache_module, "sources_digest", lambda: "0" * 64)
    model_rows(["ResNet-18"], progress=False, cache=CountsCache(tmp_path))
    assert counted == [("ResNet-18", True)] * 3
    assert len(list(tmp_path.glob("counts-*.json"))) == 3


def test_the_environment_names_versions_without_importing(monkeypatch):
    env = cache_module.environment()
    assert set(env["libraries"]) == {"torch", "torchvision", "timm", "ultralytics-thop"}
    assert __import__("torch").__version__.startswith(env["libraries"]["torch"])
    assert len(env["sources"]) == 64 and env["format"] == cache_module.FORMAT
    assert CountsCache(env=env).path != CountsCache(env={**env, "sources": "x"}).path


def test_a_file_of_another_environment_is_not_read(tmp_path, counted):
    cache = CountsCache(tmp_path)
    other = {**cache.environment, "libraries": {**cache.environment["libraries"], "torch": "9.9"}}
    cache.path.write_text(json.dumps({"format": cache_module.FORMAT, "environment": other, "resolved": {},
                                      "count_model": {}, "count_traffic": {}}))
    with pytest.warns(RuntimeWarning, match="another environment"):
        cache = CountsCache(tmp_path)
    model_rows(["ResNet-18"], progress=False, cache=cache)
    assert counted == [("ResNet-18", True)]
    assert json.loads(cache.path.read_text())["environment"] == cache.environment


@pytest.mark.parametrize("text, why", [('{"format": 1, "environ', "Unterminated string|Expecting"),
                                       ("[]", "not an object"), ("", "Expecting value")])
def test_a_corrupt_file_is_named_recounted_and_rewritten(tmp_path, counted, text, why):
    path = CountsCache(tmp_path).path
    path.write_text(text)
    with pytest.warns(RuntimeWarning, match=why) as caught:
        cache = CountsCache(tmp_path)
    assert str(path) in str(caught[0].message)
    assert model_rows(["ResNet-18"], progress=False, cache=cache)[0]["params"] == 7
    assert counted == [("ResNet-18", True)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert CountsCache(tmp_path).get("count_model", ["ResNet-18", 224, "torchvision:resnet18", True])


def test_a_section_that_is_not_an_object_is_corrupt(tmp_path):
    cache = CountsCache(tmp_path)
    cache.path.write_text(json.dumps({"format": cache_module.FORMAT, "environment": cache.environment,
                                      "count_model": []}))
    with pytest.warns(RuntimeWarning, match="section 'count_model'"):
        CountsCache(tmp_path)


@pytest.mark.parametrize("section, entry", [("count_model", ["not", "a", "row"]),
                                             ("count_model", {"params": {"nan": 1}}),
                                             ("resolved", [["ResNet-18", "224", "torchvision:resnet18"]])])
def test_a_malformed_entry_is_named_and_recounted(tmp_path, counted, section, entry):
    cache = CountsCache(tmp_path)
    ident = ["ResNet-18", 224, "torchvision:resnet18"]
    key = ["ResNet-18"] if section == "resolved" else [*ident, True]
    cache.put("resolved", {("ResNet-18",): [ident]})
    data = json.loads(cache.path.read_text())
    data[section][json.dumps(key)] = entry
    cache.path.write_text(json.dumps(data))
    with pytest.warns(RuntimeWarning, match="malformed entry"):
        rows = model_rows(["ResNet-18"], progress=False, cache=CountsCache(tmp_path))
    assert rows[0]["params"] == 7 and counted == [("ResNet-18", True)]


def test_values_read_back_exactly(tmp_path):
    row = {"z_first": 0.1 + 0.2, "tiny": 5e-324, "small": 1e-300, "third": 1 / 3, "minus_zero": -0.0,
           "nan": math.nan, "inf": math.inf, "minus_inf": -math.inf, "big": 2 ** 62 + 1, "zero": 0,
           "na": pd.NA, "none": None, "flag": True, "text": 'grouped "convs"; 1.57x \u00e9'}
    CountsCache(tmp_path).put("count_model", {("m", 224, "s", True): row})
    back = CountsCache(tmp_path).get("count_model", ["m", 224, "s", True])
    assert list(back) == list(row)
    for column, value in row.items():
        assert type(back[column]) is type(value), column
        if isinstance(value, float):
            assert math.copysign(1, back[column]) == math.copysign(1, value)
            assert back[column] == value or (math.isnan(value) and math.isnan(back[column])), column
        else:
            assert back[column] is value or back[column] == value, column


def test_a_value_that_would_not_read_back_is_refused(tmp_path):
    with pytest.raises(TypeError, match="float64"):
        CountsCache(tmp_path).put("count_model", {("m", 224, "s", True): {"gops": np.float64(1.5)}})
    with pytest.raises(KeyError, match="valid: resolved"):
        CountsCache(tmp_path).put("counts", {("m",): {}})


def test_writers_merge(tmp_path):
    first, second = CountsCache(tmp_path), CountsCache(tmp_path)
    first.put("count_model", {("a", 1, "s", True): {"params": 1}})
    second.put("count_model", {("b", 1, "s", True): {"params": 2}})
    both = CountsCache(tmp_path)
    assert both.get("count_model", ["a", 1, "s", True]) == {"params": 1}
    assert both.get("count_model", ["b", 1, "s", True]) == {"params": 2}
    assert not list(tmp_path.glob("*.tmp"))


def test_an_unwritable_cache_warns_and_still_counts(tmp_path, counted):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with pytest.warns(RuntimeWarning) as caught:
        rows = model_rows(["ResNet-18"], progress=False, cache=CountsCache(blocked))
    assert rows[0]["params"] == 7
    messages = [str(w.message) for w in caught]
    assert any(m.startswith(f"cannot read the counts cache {blocked}") for m in messages), messages
    assert any(m.startswith(f"could not write the counts cache {blocked}") for m in messages), messages


def test_requests_resolve_as_the_registry_does(tmp_path):
    for request in (["smoke"], "ENet,resnet-18", ["paper", "ResNet-50", "mobilenet_v2"]):
        expected = [(s.name, s.input_size, s.source) for s in zoo.resolve_models(request)]
        assert resolved(request, CountsCache(tmp_path)) == expected
        assert resolved(request, CountsCache(tmp_path)) == expected  # read back
    with pytest.raises(zoo.UnknownModelError):
        resolved(["no-such-model"], CountsCache(tmp_path))


def test_a_cached_name_the_registry_now_resolves_otherwise_is_an_error(tmp_path, counted):
    cache = CountsCache(tmp_path)
    cache.put("resolved", {("ResNet-18",): [["ResNet-18", 999, "torchvision:resnet18"]]})
    with pytest.raises(ValueError, match="not the cached"):
        model_rows(["ResNet-18"], progress=False, cache=cache)


def test_traffic_rows_counted_once(tmp_path, monkeypatch):
    cold = traffic_row("BN-NIN", 2, cache=CountsCache(tmp_path))
    assert cold == ops.count_traffic("BN-NIN", 2)
    _no_model_building(monkeypatch)
    warm = traffic_row("BN-NIN", 2, cache=CountsCache(tmp_path))
    assert list(warm.items()) == list(cold.items())
    assert [type(v) for v in warm.values()] == [type(v) for v in cold.values()]
    with pytest.raises(ValueError, match="positive integer"):
        traffic_row("BN-NIN", 0, cache=CountsCache(tmp_path))


def test_claims_evidence_and_profiles_read_warm_counts_without_building(tmp_path, monkeypatch):
    from helpers.analysis import evidence, modern
    from helpers.analysis.claims import claims_table
    from helpers.store.results import load_results

    monkeypatch.setenv("COUNTS_CACHE_DIR", str(tmp_path / "counts"))
    smoke = ["ENet", "ResNet-18"]
    cold_frame = evidence._counts_frame(None, smoke)
    cold_claims = claims_table(load_results(tmp_path / "results"), models=smoke)
    cold_load = modern.profile_load("smoke")
    _no_model_building(monkeypatch)
    pd.testing.assert_frame_equal(evidence._counts_frame(None, smoke), cold_frame, check_exact=True)
    pd.testing.assert_frame_equal(claims_table(load_results(tmp_path / "results"), models=smoke), cold_claims,
                                  check_exact=True)
    assert modern.profile_load("smoke") == cold_load


def test_the_claims_path_imports_no_torch_on_a_warm_cache(tmp_path):
    smoke = ["ENet", "ResNet-18"]
    count_table(smoke, thop=False, progress=False, cache=CountsCache(tmp_path / "counts"))
    code = ("import sys; import helpers.cli.commands; from helpers.analysis.claims import claims_table; "
            "from helpers.store.results import load_results; "
            f"table = claims_table(load_results({str(tmp_path / 'results')!r}), models={smoke!r}); "
            "assert len(table), 'no claims'; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'thop', 'timm')))")
    env = {**os.environ, "COUNTS_CACHE_DIR": str(tmp_path / "counts"), "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
