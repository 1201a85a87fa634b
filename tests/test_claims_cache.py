"""Claims computed once per input: a table of unchanged inputs is read back, any changed input rules again."""
import os
import subprocess
import sys

import pandas as pd
import pytest

from helpers.analysis import claims, claims_cache
from helpers.core.paths import REPO_ROOT


@pytest.fixture
def cache_on(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAIMS_CACHE_DIR", str(tmp_path / "claims"))
    return tmp_path / "claims"


def test_off_computes_every_time(monkeypatch):
    monkeypatch.setenv("CLAIMS_CACHE_DIR", "off")
    calls = []
    assert claims_cache.cached("k", lambda: calls.append(1) or pd.DataFrame({"a": [1]})).equals(pd.DataFrame({"a": [1]}))
    claims_cache.cached("k", lambda: calls.append(1) or pd.DataFrame({"a": [1]}))
    assert len(calls) == 2


def test_a_stored_table_is_read_back_exactly_and_not_ruled_again(cache_on, monkeypatch):
    first = claims.claims_table(paper_data=True)
    assert len(list(cache_on.glob("claims-*.pkl"))) == 1
    monkeypatch.setattr(claims, "rule", lambda *a, **k: pytest.fail("ruled again on unchanged inputs"))
    again = claims.claims_table(paper_data=True)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert first.to_csv() == again.to_csv()


def test_any_changed_input_is_another_key():
    frame = pd.DataFrame({"device_tag": ["cpu-x"], "value": [1.0]})
    base = dict(device_tag=None, paper_data=False, counts=None, parts=None, models=["AlexNet"])
    key = claims_cache.claims_key(frame, **base)
    assert key == claims_cache.claims_key(frame.copy(), **base)
    assert key != claims_cache.claims_key(frame.assign(value=[1.0 + 1e-12]), **base)  # one value
    assert key != claims_cache.claims_key(frame.astype({"value": "float32"}), **base)  # a dtype
    assert key != claims_cache.claims_key(frame, **dict(base, device_tag="cpu-x"))
    assert key != claims_cache.claims_key(frame, **dict(base, parts=["C1"]))
    assert key != claims_cache.claims_key(frame, **dict(base, models=["VGG-16"]))
    assert key != claims_cache.claims_key(frame, **dict(base, counts=pd.DataFrame({"gops": [1.0]})))


def test_a_code_change_is_another_key(monkeypatch):
    frame = pd.DataFrame({"a": [1]})
    args = dict(device_tag=None, paper_data=False, counts=None, parts=None, models=[])
    key = claims_cache.claims_key(frame, **args)
    monkeypatch.setattr(claims_cache, "code_digest", lambda: "another version of the rules")
    assert claims_cache.claims_key(frame, **args) != key


def test_an_unreadable_file_is_named_and_ruled_again(cache_on):
    cache_on.mkdir()
    (cache_on / "claims-k.pkl").write_bytes(b"not a pickle")
    with pytest.warns(RuntimeWarning, match="unreadable claims cache .*claims-k.pkl"):
        table = claims_cache.cached("k", lambda: pd.DataFrame({"a": [2]}))
    assert table["a"].tolist() == [2]
    assert claims_cache.cached("k", lambda: pytest.fail("not rewritten"))["a"].tolist() == [2]


def test_a_folder_that_cannot_be_written_is_named_and_the_table_returned(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("CLAIMS_CACHE_DIR", str(blocker / "claims"))
    with pytest.warns(RuntimeWarning, match="could not write the claims cache"):
        table = claims_cache.cached("k", lambda: pd.DataFrame({"a": [3]}))
    assert table["a"].tolist() == [3]


def test_the_command_line_reads_its_claims_back(tmp_path):
    """Two runs of ``claims --csv`` (on the paper's numbers: the cheapest table): the same bytes, the second
    from the cache."""
    env = {**os.environ, "CLAIMS_CACHE_DIR": str(tmp_path / "claims")}
    cmd = [sys.executable, "-m", "helpers", "claims", "--paper-data", "--csv"]
    first = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True).stdout
    assert len(list((tmp_path / "claims").glob("claims-*.pkl"))) == 1
    second = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True).stdout
    assert first == second and first.startswith("claim,figure,")
