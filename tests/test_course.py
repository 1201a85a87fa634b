import base64
import json

import pytest

from helpers import course
from helpers.course import LESSONS, exercises, lesson_table, notebooks_exist, solution
from helpers.reproduce import notebook_paths


def test_every_lesson_notebook_exists_and_is_run_in_order():
    assert notebooks_exist() == []
    run_order = [p.name for p in notebook_paths()]
    assert run_order[0] == "00_course_guide.ipynb"
    assert [l.notebook for l in LESSONS] == run_order[1:]


def test_every_exercise_has_a_solution_and_none_is_stored_in_clear():
    ids = list(exercises()["id"])
    stored = json.loads(course.SOLUTIONS_JSON.read_text())
    assert sorted(stored) == sorted(ids)
    for exercise_id in ids:
        text = solution(exercise_id)
        assert len(text) > 40
        assert text not in course.SOLUTIONS_JSON.read_text()  # encoded, not readable at a glance
        assert base64.b64decode(stored[exercise_id]).decode() == text


def test_unknown_exercise_lists_the_valid_ids():
    with pytest.raises(KeyError, match="'9.9'.*1.1"):
        solution("9.9")


def test_solutions_kept_back_by_a_teacher(monkeypatch, tmp_path):
    monkeypatch.setattr(course, "SOLUTIONS_JSON", tmp_path / "missing.json")
    with pytest.raises(FileNotFoundError, match="kept the solutions back"):
        solution("1.1")


def test_lesson_table_says_what_each_lesson_teaches():
    table = lesson_table()
    assert list(table["lesson"]) == list(range(1, 8))
    assert table["you learn"].str.len().min() > 20
