"""The counts table: every count of a list of models, with the paper's values beside its models.

Each model's counts come from :mod:`helpers.counting.cache` (counted once by
:func:`helpers.counting.ops.count_model`, then read back), so a table of
counted models needs neither torch nor a model built.
"""
from __future__ import annotations

from typing import Iterable

import pandas as pd

from helpers.core.reference import paper_models
from helpers.counting.cache import CountsCache, model_rows

__all__ = ["COUNTERS_TOLERANCE_PCT", "groups_note", "count_table"]

# thop and FlopCounterMode are said to agree when within this many percent.
COUNTERS_TOLERANCE_PCT = 1.0


def groups_note(gops: float, gops_2016: float) -> str:
    """A sentence on a model with grouped convolutions (its two counts differ), else ""."""
    if not gops_2016 > gops:
        return ""
    return (f"grouped convolutions: {gops:.3f} G-ops with groups honoured (gops), "
            f"{gops_2016:.3f} counted dense as the 2016 rules did (gops_2016), {gops_2016 / gops:.2f}x")


def _join_notes(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def count_table(models: Iterable[str] | str = "paper", thop: bool = True,
                progress: bool = True, cache: CountsCache | None = None) -> pd.DataFrame:
    """Counts for a list of models or presets, with the paper's values beside paper models.

    Columns (counts in billions: GMAC for ``gmacs``, G-ops for ``gops*``):
    model, input_size, params, params_m, gmacs, gops (groups honoured, the
    default), gops_2016 (groups dense, to reproduce the paper), thop_gmacs,
    thop_vs_gmacs_pct, counters_agree, torchvision_gmacs, and for paper models
    params_m_paper, params_diff_pct, gops_published (the paper's G-ops) and
    gops_2016_diff_pct (percent). ``note``: the paper's note on the model, and
    for every model with grouped convolutions, its two counts side by side.
    ``progress``: a bar while models are counted (those not in the cache);
    ``cache``: where counts are kept (default ``CountsCache()``).
    """
    table = pd.DataFrame(model_rows(models, thop=thop, progress=progress, cache=cache))
    table["params_m"] = table["params"] / 1e6
    if thop:
        table["thop_vs_gmacs_pct"] = 100 * (table["thop_gmacs"] / table["gmacs"] - 1)
        table["counters_agree"] = table["thop_vs_gmacs_pct"].abs() <= COUNTERS_TOLERANCE_PCT
    paper = paper_models()
    on_paper = table["model"].isin(paper.index)
    ref = paper.reindex(table["model"])
    table["params_m_paper"] = ref["params_m_paper"].to_numpy()
    table["gops_published"] = ref["gops_published"].to_numpy()
    table["params_diff_pct"] = 100 * (table["params_m"] / table["params_m_paper"] - 1)
    table["gops_2016_diff_pct"] = 100 * (table["gops_2016"] / table["gops_published"] - 1)
    table["note"] = ref["note"].fillna("").to_numpy()
    table.loc[~on_paper, "note"] = ""
    table["note"] = [_join_notes(note, groups_note(g, g16))
                     for note, g, g16 in zip(table["note"], table["gops"], table["gops_2016"])]
    first = ["model", "input_size", "params", "params_m", "gmacs", "gops", "gops_2016"]
    return table[first + [c for c in table.columns if c not in first]]
