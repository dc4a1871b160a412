"""`stedi report`: the last run's row accounting, read back from its Dagster events (the
row_accounting checks' terms, the quarantine's records per reason, the curated table's rows),
drawn (stedi_assets.operations.accounting_picture) and written as one self-contained HTML page."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from stedi_assets.rules.accounting import TERMS
from stedi_assets.operations.accounting_picture import RunAccount, SourceAccount, draw
from stedi_assets.rules.contract import LANDING_QUARANTINE, MACHINE_LEARNING_CURATED, SOURCES
from stedi_assets.operations.run_output import ROW_COUNT

# checks.ROW_ACCOUNTING: checks imports the resources, whose IO manager imports this module.
ROW_ACCOUNTING = "row_accounting"


class NoRun(LookupError):
    """The instance holds no run to report on."""


def run_account(instance, run_id: str | None = None, curated_rows: int | None = None):
    """(the run, its RunAccount): the run `run_id`, or the newest one. `curated_rows`: the
    rows of machine_learning_curated when its materialization is not recorded yet (while the
    run writes it)."""
    run = instance.get_run_by_id(run_id) if run_id else next(iter(instance.get_runs(limit=1)), None)
    if run is None:
        raise NoRun(f"no run {run_id} in the instance" if run_id else "no run in the instance yet")
    terms, reasons, curated, counted = {}, {}, None, "every landing file"
    for entry in instance.all_logs(run.run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.check_name == ROW_ACCOUNTING and "source" in evaluation.metadata:
                found = {key: value.value for key, value in evaluation.metadata.items()}
                terms[found["source"]] = {term: int(found[term]) for term in TERMS}
                counted = str(found.get("counted", counted))
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            table, metadata = materialization.asset_key.path[-1], materialization.metadata
            # An append's quarantine says the reasons of what the run added: what it counted.
            per_reason = metadata.get("added_records_per_reason",
                                      metadata.get("records_per_reason"))
            if table == LANDING_QUARANTINE and per_reason is not None:
                for record in per_reason.value.records:
                    row = record.data
                    reasons.setdefault(row["source"], {})[row["reason"]] = int(row["records"])
            if table == MACHINE_LEARNING_CURATED and ROW_COUNT in metadata:
                curated = int(metadata[ROW_COUNT].value)
    sources = tuple(SourceAccount(source.name, terms[source.name], reasons.get(source.name, {}))
                    for source in SOURCES if source.name in terms)
    return run, RunAccount(sources, curated if curated_rows is None else curated_rows, counted)


def picture_markdown(instance, run_id: str, curated_rows: int) -> str:
    """The run's figure so far as Markdown with the PNG inline, as the Dagster UI shows it."""
    _, account = run_account(instance, run_id, curated_rows)
    return f"![row accounting](data:image/png;base64,{_png_base64(account)})"


def _png_base64(account: RunAccount) -> str:
    return base64.b64encode(draw(account)).decode()


def html_page(run, account: RunAccount) -> str:
    """The page: the run, the figure (PNG, inline) and the numbers it shows."""
    image = _png_base64(account)
    rows = "".join(
        f"<tr><th>{html.escape(source.source)}</th>"
        + "".join(f"<td>{source.terms[term]:,}</td>" for term in TERMS) + "</tr>"
        for source in account.sources)
    header = "".join(f"<th>{html.escape(term.replace('_', ' '))}</th>" for term in TERMS)
    said = ("" if account.sources else
            "<p>This run accounted for no source: every table it reads was unchanged.</p>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>STEDI run {run.run_id[:8]}</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 8px;text-align:right}}
table{{border-collapse:collapse}}tr:nth-child(even){{background:#f3f3f3}}</style></head>
<body><h1>Row accounting of run {html.escape(run.run_id)}</h1>
<p>Status: {html.escape(run.status.value)}. Counted: {html.escape(account.counted)}.</p>
{said}<img alt="row accounting" src="data:image/png;base64,{image}">
<table><tr><th>source</th>{header}</tr>{rows}</table>
</body></html>
"""


def write_report(instance, folder: Path, run_id: str | None = None) -> Path:
    """Writes the page of the run (default: the newest) under `folder`; returns its path."""
    run, account = run_account(instance, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"run-{run.run_id}.html"
    path.write_text(html_page(run, account), encoding="utf-8")
    return path
