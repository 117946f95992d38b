"""Generated blocks inside hand-written pages, between a marker and ``<!-- report:end -->``.

``<!-- report:table experiment=NAME [variants=GLOB,...] [keys=PREFIX,...] [rules=RULE,...] [metric=KEY] -->``:
the experiment's ``default`` rows, then its rows whose recorded ``variant`` matches one of the globs and whose
label keys all lie below one of the prefixes (each filter only where given). ``metric`` defaults to the
experiment's monitored validation metric and its test counterpart. ``<!-- report:tasks -->``: the task table
of the README, its numbers from the headline tables. Markers inside fenced code blocks are left alone.
"""

from __future__ import annotations

import fnmatch
import re
import shlex

from .rows import Row, series_overrides
from .tables import headline, markdown, marker_table, monitored, on_equal_terms
from .tasks import DATASETS as _DATASETS
from .tasks import TASKS, Metric, fmt, metric, rule_key, series, task_of

MARKER = re.compile(r"<!--\s*report:(\S+)(.*?)-->")
END = "<!-- report:end -->"
ATTRS = {"table": ("experiment", "variants", "keys", "rules", "metric"), "tasks": ()}


class MarkerError(ValueError):
    """A marker block that cannot be generated; the message names the file and line."""


def attributes(kind: str, text: str, where: str) -> dict[str, str]:
    """``key=value`` attributes of a marker, checked against what ``kind`` accepts."""
    out = {}
    for word in text.split():
        k, eq, v = word.partition("=")
        if not eq or k not in ATTRS[kind]:
            raise MarkerError(f"{where}: unknown attribute {word!r} of report:{kind}; "
                              f"accepted: {', '.join(ATTRS[kind]) or 'none'}")
        out[k] = v
    if kind == "table" and not out.get("experiment"):
        raise MarkerError(f"{where}: report:table needs experiment=NAME")
    return out


def _listed(attrs: dict[str, str], key: str) -> list[str]:
    return [x for x in attrs.get(key, "").split(",") if x]


def table_block(attrs: dict[str, str], rows: list[Row], where: str) -> str:
    """The table of a ``report:table`` marker."""
    exp = attrs["experiment"]
    mine = [r for r in rows if r.experiment == exp]
    if not mine:
        raise MarkerError(f"{where}: no runs of experiment {exp!r}")
    rules, globs, prefixes = _listed(attrs, "rules"), _listed(attrs, "variants"), _listed(attrs, "keys")
    task = task_of(mine[0].runs[0])

    def chosen(r: Row) -> bool:
        if globs and not any(fnmatch.fnmatchcase(str(m.get("variant") or ""), g) for m in r.runs for g in globs):
            return False
        return not prefixes or all(any(k.startswith(p) for p in prefixes) for k in r.runs[0]["_diff"])

    mine = [r for r in mine if not rules or r.rule in rules]
    order = sorted(mine, key=lambda r: (r.label != "default", rule_key(r.rule), r.key))
    picked = [r for r in order if r.label == "default" or chosen(r)]
    mon = monitored([m for r in mine for m in r.runs])
    wanted = [attrs["metric"]] if "metric" in attrs else [mon, mon.replace("val/", "test/", 1)]
    if not any(r.values(k) for r in picked for k in wanted):
        raise MarkerError(f"{where}: no run of {exp!r} recorded {', '.join(wanted)}")
    return marker_table(picked, [(f"best {k}" if k == mon else k, k, metric(task, k)) for k in wanted],
                        task.scorer[0] if task.scorer else "")


def _epochs(row: Row) -> str:
    """A row's epochs, with the share of each epoch's batches where training was capped (``1 (25 % of batches)``)."""
    return str(row.epochs) if row.batches == "all" else f"{row.epochs} ({row.batches} of batches)"


def tasks_block(by_task: dict[str, list[Row]]) -> str:
    """The README's task table: each experiment's default per rule (mean ± std), criteria, budget, the command.

    A baseline's cell is marked ``†`` where its budget (epochs, seeds, device) differs from bsd's row.
    """
    rules = ("bsd", "bp_snn", "bp_ann")
    lines = []
    for task in TASKS:
        head = headline(by_task.get(task.name, []))
        main: Metric = task.main
        for exp in sorted({e for e, _ in head}):
            rows = [head.get((exp, rule)) for rule in rules]
            cells = [fmt(r.values(f"test/{main.key}", main.scale), main.digits)
                     + ("" if on_equal_terms(r, head) else " †") if r else "-" for r in rows]
            lead = next(r for r in (*rows, *head.values()) if r is not None and r.experiment == exp)
            data = str(lead.runs[0].get("dataset"))
            crit = " / ".join(r.criteria if r else "-" for r in rows)
            bsd = rows[0]
            spent = f"{_epochs(bsd)} · {len(bsd.runs)} · {bsd.devices}" if bsd else "-"
            where = " ".join(shlex.quote(a) for a in series_overrides(lead.runs[0]))
            name = series(lead.runs[0]) if task.name == "forecast" else _DATASETS.get(data, data)
            lines.append([exp, name, main.header, *cells, crit, spent,
                          f"`python src/train.py +experiment={exp}{' ' + where if where else ''}`"])
    return markdown(["experiment", "data", "metric", *rules, "criteria (bsd / bp_snn / bp_ann)",
                     "epochs · seeds · device", "command"], lines)


def refresh(text: str, name: str, by_task: dict[str, list[Row]]) -> str:
    """``text`` with every marker block regenerated (errors name ``name`` and the marker's line)."""
    rows = sorted((r for rs in by_task.values() for r in rs), key=lambda r: r.key)
    lines = text.splitlines(keepends=True)
    out, i, fenced = [], 0, False
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            fenced = not fenced
        m = None if fenced else MARKER.search(line)
        if m is None:
            out.append(line)
            i += 1
            continue
        kind, where = m.group(1), f"{name}:{i + 1}"
        if kind == "end":
            raise MarkerError(f"{where}: {END} without an opening report:table or report:tasks marker")
        if kind not in ATTRS:
            raise MarkerError(f"{where}: unknown marker report:{kind}; use report:table, report:tasks, report:end")
        attrs = attributes(kind, m.group(2), where)
        end = next((j for j in range(i + 1, len(lines)) if END in lines[j]), None)
        if end is None:
            raise MarkerError(f"{where}: report:{kind} has no closing {END}")
        block = table_block(attrs, rows, where) if kind == "table" else tasks_block(by_task)
        out += [line, block + "\n", lines[end]]
        i = end + 1
    return "".join(out)
