"""Set-membership conditions whose SQL text does not grow with the number of values.

`col IN (:p1, :p2, …)` is new SQL for every count, so PostgreSQL (and psycopg, which parses each new text)
pays again for every batch size. On PostgreSQL the values go as one array parameter (`= ANY(:a)`, and
`(a, b) IN (SELECT unnest(:x), unnest(:y))` for keys of several columns); SQLite keeps `IN`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Text, any_, bindparam, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY


def one_of(col: Any, values: Iterable[Any], postgres: bool) -> Any:
    """`col` is one of `values`."""
    ordered = sorted(set(values))
    if postgres:
        return col == any_(bindparam(None, ordered, type_=ARRAY(col.type)))
    return col.in_(ordered)


def keys_in(cols: Sequence[Any], keys: Iterable[tuple[Any, ...]], postgres: bool) -> Any:
    """The tuple of `cols` is one of `keys` (each a tuple of text values, one per column)."""
    ordered = sorted(set(keys))
    if postgres:
        arrays = [bindparam(None, [k[i] for k in ordered], type_=ARRAY(Text)) for i in range(len(cols))]
        return tuple_(*cols).in_(select(*[func.unnest(a) for a in arrays]))
    return tuple_(*cols).in_(ordered)
