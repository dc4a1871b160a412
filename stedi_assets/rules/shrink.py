"""Sudden loss of data: what stops a version from replacing a table that had much more.

An empty or unreadable feed looks, to every other check, like a quiet day: every row is
accounted for and nobody's consent is broken. Publishing it would replace good tables by
empty ones, and retention would then expire the good versions. So a table may not lose more
than a set share of its rows against its published version, and a source that had records
must yield at least one valid record, unless the run is told that this is expected (a feed
that really stopped, a consent withdrawal that empties a table).
"""

from __future__ import annotations

from dataclasses import dataclass

ACCEPT_SETTING = "STEDI_ACCEPT_SHRINK"
MAX_SHRINK_SETTING = "STEDI_MAX_SHRINK"
DEFAULT_MAX_SHRINK = 0.5


@dataclass(frozen=True)
class ShrinkPolicy:
    """`max_shrink`: the largest share of its rows a table may lose in one run (0 to 1);
    `accepted`: tables whose larger loss this run accepts."""

    max_shrink: float = DEFAULT_MAX_SHRINK
    accepted: frozenset[str] = frozenset()

    def shrink_problem(self, table: str, published_rows: int | None, rows: int) -> str | None:
        """Why `rows` may not replace the published version's `published_rows`, or None."""
        if not published_rows or table in self.accepted:
            return None
        lost = (published_rows - rows) / published_rows
        if lost <= self.max_shrink:
            return None
        return (f"{table} would shrink by {lost:.0%} against its published version "
                f"({published_rows:,} rows to {rows:,}), more than the {self.max_shrink:.0%} "
                f"allowed; {self._how_to_accept(table)}")

    def empty_source_problem(self, table: str, records: int, valid: int) -> str | None:
        """Why a source with `records` records but no valid one may not be published, or None."""
        if valid or not records or table in self.accepted:
            return None
        return (f"{table}: {records:,} records read and none is valid (their reasons are in "
                f"landing_quarantine); {self._how_to_accept(table)}")

    @staticmethod
    def _how_to_accept(table: str) -> str:
        return f"if this is expected, run again with {ACCEPT_SETTING}={table} (or =all)"


def accepted_tables(text: str, tables: frozenset[str]) -> frozenset[str]:
    """The tables `STEDI_ACCEPT_SHRINK` names (comma-separated, or `all`)."""
    names = {name.strip().lower() for name in text.split(",") if name.strip()}
    if "all" in names:
        return tables
    unknown = sorted(names - tables)
    if unknown:
        raise ValueError(f"{ACCEPT_SETTING} names {', '.join(unknown)}, which is not a table "
                         f"(tables: {', '.join(sorted(tables))}, or all)")
    return frozenset(names)
