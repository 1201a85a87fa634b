"""The paper's own numbers: data/reference/paper_models.csv, typed and cached.

One row per model of Canziani, Paszke and Culurciello (2016), in the order of
the paper's figures: top-1 accuracy (with its source), G-ops and parameters as
the paper reports them, and the colour each model has in the paper's plots.

``top1_pct`` is the value plotted in the paper's final version;
``top1_pct_v1`` is the value of the first arXiv version and is empty (NaN)
where that version has no figure for the model.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

import pandas as pd

from helpers.core.paths import PAPER_MODELS_CSV

#: The paper's 14 models, in the CSV's (and the paper's figures') order.
PAPER_MODELS: tuple[str, ...] = (
    "AlexNet",
    "BN-AlexNet",
    "BN-NIN",
    "ENet",
    "GoogLeNet",
    "VGG-16",
    "VGG-19",
    "ResNet-18",
    "ResNet-34",
    "ResNet-50",
    "ResNet-101",
    "ResNet-152",
    "Inception-v3",
    "Inception-v4",
)

FLOAT_COLUMNS: tuple[str, ...] = ("top1_pct", "top1_pct_v1", "gops_published", "params_m_paper")
TEXT_COLUMNS: tuple[str, ...] = ("colour", "top1_source", "architecture_source", "note")
# Empty text cells that mean "nothing to say" rather than "unknown".
_OPTIONAL_TEXT = ("note",)
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@lru_cache(maxsize=1)
def _load_paper_models() -> pd.DataFrame:
    if not PAPER_MODELS_CSV.is_file():
        raise FileNotFoundError(f"paper reference table not found: {PAPER_MODELS_CSV}")
    dtypes: dict[str, object] = {c: "float64" for c in FLOAT_COLUMNS}
    dtypes.update({c: "string" for c in ("model", *TEXT_COLUMNS)})
    frame = pd.read_csv(PAPER_MODELS_CSV, dtype=dtypes, keep_default_na=False,
                        na_values={c: [""] for c in FLOAT_COLUMNS})

    expected = {"model", *FLOAT_COLUMNS, *TEXT_COLUMNS}
    missing = expected - set(frame.columns)
    if missing:
        raise ValueError(f"{PAPER_MODELS_CSV}: missing columns {sorted(missing)}")
    if tuple(frame["model"]) != PAPER_MODELS:
        raise ValueError(
            f"{PAPER_MODELS_CSV}: models {list(frame['model'])} differ from "
            f"PAPER_MODELS {list(PAPER_MODELS)}"
        )
    for column in ("top1_pct", "gops_published", "params_m_paper"):
        empty = frame.loc[frame[column].isna(), "model"].tolist()
        if empty:
            raise ValueError(f"{PAPER_MODELS_CSV}: column {column!r} is empty for {empty}")
    for column in TEXT_COLUMNS:
        if column not in _OPTIONAL_TEXT:
            empty = frame.loc[frame[column].str.strip() == "", "model"].tolist()
            if empty:
                raise ValueError(f"{PAPER_MODELS_CSV}: column {column!r} is empty for {empty}")
    bad_colours = [c for c in frame["colour"] if not _HEX_COLOUR.match(c)]
    if bad_colours:
        raise ValueError(f"{PAPER_MODELS_CSV}: colours not in #rrggbb form: {bad_colours}")

    # Plain Python strings (object dtype) so values compare and format simply.
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].astype(object)
    frame["model"] = frame["model"].astype(object)
    return frame.set_index("model")


def paper_models() -> pd.DataFrame:
    """The paper's reference table, indexed by ``model`` (a fresh copy each call).

    Float columns: ``top1_pct``, ``top1_pct_v1`` (NaN where empty),
    ``gops_published``, ``params_m_paper``. Text columns: ``colour`` (``#rrggbb``),
    ``top1_source``, ``architecture_source``, ``note`` ("" where empty).
    """
    return _load_paper_models().copy()


def paper_palette() -> dict[str, str]:
    """Model name → the hex colour the paper uses for it, in the paper's order."""
    colours = _load_paper_models()["colour"]
    return {model: str(colours[model]) for model in PAPER_MODELS}


def _check_model(model: str) -> None:
    if model not in PAPER_MODELS:
        raise KeyError(
            f"unknown paper model {model!r}; valid names: {', '.join(PAPER_MODELS)}"
        )


def paper_value(model: str, column: str) -> float | str:
    """One cell of the paper's table, as a Python ``float`` or ``str``.

    Empty float cells come back as ``float('nan')``. Raises ``KeyError`` naming
    the model (or column) and listing the valid ones.
    """
    _check_model(model)
    frame = _load_paper_models()
    if column not in frame.columns:
        raise KeyError(
            f"unknown column {column!r} for model {model!r}; valid columns: "
            f"{', '.join(frame.columns)}"
        )
    value = frame.at[model, column]
    if column in FLOAT_COLUMNS:
        value = float(value)
        return math.nan if math.isnan(value) else value
    return str(value)


#: Columns of data/reference/paper_numbers.csv.
PAPER_NUMBERS_COLUMNS: tuple[str, ...] = ("key", "part", "value", "unit", "where", "statement")


@lru_cache(maxsize=1)
def _load_paper_numbers() -> pd.DataFrame:
    from helpers.core.paths import PAPER_NUMBERS_CSV

    if not PAPER_NUMBERS_CSV.is_file():
        raise FileNotFoundError(f"the paper's stated numbers not found: {PAPER_NUMBERS_CSV}")
    frame = pd.read_csv(PAPER_NUMBERS_CSV, dtype={"value": "float64"}, keep_default_na=False)
    missing = set(PAPER_NUMBERS_COLUMNS) - set(frame.columns)
    if missing:
        raise ValueError(f"{PAPER_NUMBERS_CSV}: missing columns {sorted(missing)}")
    if frame["key"].duplicated().any():
        raise ValueError(f"{PAPER_NUMBERS_CSV}: duplicate keys {sorted(frame.loc[frame['key'].duplicated(), 'key'])}")
    return frame.set_index("key")


def paper_numbers() -> pd.DataFrame:
    """The figures the paper states in its text (not per model), one row per key:
    ``part`` (the claim part it bears on), ``value``, ``unit``, ``where`` (figure
    and text) and ``statement`` (what the paper says). A copy."""
    return _load_paper_numbers().copy()


def paper_number(key: str) -> float:
    """One stated figure by key (see ``paper_numbers``); KeyError naming the valid keys."""
    numbers = _load_paper_numbers()
    if key not in numbers.index:
        raise KeyError(f"no paper number {key!r}; valid keys: {', '.join(numbers.index)}")
    return float(numbers.at[key, "value"])
