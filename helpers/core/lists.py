"""Comma-separated lists, as a command line or a notebook gives them: parsed in one place."""
from __future__ import annotations

from typing import Any, Iterable

__all__ = ["split_list"]


def split_list(items: str | Iterable[Any] | Any) -> list[Any]:
    """The items of ``"a, b,,c"`` or of ``["a,b", "c"]``: ``["a", "b", "c"]``.

    A string is split at commas; so is every string in an iterable (a list of
    ``"a,b"`` arguments means the same as the joined string). String items are
    stripped and blank ones dropped; other items (numbers) are kept as they
    are, and a lone non-string, non-iterable value is a list of itself. Order
    and duplicates are kept: the caller converts, validates and de-duplicates.
    """
    if isinstance(items, str):
        parts: Iterable[Any] = [items]
    elif isinstance(items, Iterable):
        parts = items
    else:
        parts = [items]
    out: list[Any] = []
    for part in parts:
        if isinstance(part, str):
            out.extend(p.strip() for p in part.split(",") if p.strip())
        else:
            out.append(part)
    return out
