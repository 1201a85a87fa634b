"""The one comma-separated list parser, and the parsers built on it keeping their messages."""
from __future__ import annotations

import pytest

from helpers.core.lists import split_list


def test_a_string_is_split_at_commas_stripped_and_blanks_dropped():
    assert split_list(" a, b,,c ,") == ["a", "b", "c"]
    assert split_list("") == [] and split_list(" , ") == []


def test_strings_in_an_iterable_are_split_too_and_other_items_kept():
    assert split_list(["a,b", " c ", ""]) == ["a", "b", "c"]
    assert split_list(("x", 4, 2.0)) == ["x", 4, 2.0]
    assert split_list(iter(["p, q"])) == ["p", "q"]


def test_order_and_duplicates_are_the_callers():
    assert split_list("b,a,b") == ["b", "a", "b"]


def test_a_lone_value_is_a_list_of_itself():
    assert split_list(8) == [8] and split_list(None) == [None]


def test_callers_convert_and_keep_their_messages():
    from helpers.measure.profiles import parse_batch_sizes
    from helpers.measure.studies import parse_thread_counts

    assert parse_batch_sizes("4, 1,4") == [1, 4] and parse_batch_sizes([2, "8"]) == [2, 8]
    with pytest.raises(ValueError, match=r"bad batch size 2\.5"):
        parse_batch_sizes([2.5])
    with pytest.raises(ValueError, match="no batch sizes given"):
        parse_batch_sizes(" , ")
    assert parse_thread_counts("4,2, 4") == [2, 4]
    with pytest.raises(ValueError, match="bad thread count '0'"):
        parse_thread_counts("1,0")
