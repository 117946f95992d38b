"""Markdown tables: the headline table of a task, the screens of an experiment, floors, marker tables."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from .labels import default_config, label
from .rows import Row
from .runs import FINAL_GRID
from .tasks import RULE_ORDER, Metric, Task, compare, fmt, metric, rule_key


def markdown(header: list[str], lines: list[list[str]]) -> str:
    """A Markdown table (``|`` inside cells escaped)."""
    def cells(xs: list[str]) -> str:
        return "| " + " | ".join(str(x).replace("|", "\\|") for x in xs) + " |"
    return "\n".join([cells(header), "|" + "---|" * len(header), *(cells(x) for x in lines)])


def monitored(runs: list[dict]) -> str:
    """The validation metric most of ``runs`` were checkpointed on (``val/acc`` when none)."""
    c = Counter(m["_monitor"][0] for m in runs)
    return min(c, key=lambda k: (-c[k], k)) if c else "val/acc"


def cells(row: Row, keys: list[tuple[str, Metric]]) -> list[str]:
    """Mean ± std of each metric ``(key, spec)`` over the row's runs."""
    return [fmt(row.values(k, spec.scale), spec.digits) for k, spec in keys]


def grid_links(row: Row, link_base: Path) -> str:
    """Links to the final image grid of each seed of the row (``-`` if none)."""
    links = [f"[{m.get('seed')}]({os.path.relpath(Path(m['_dir']) / FINAL_GRID, link_base)})"
             for m in row.runs if (Path(m["_dir"]) / FINAL_GRID).is_file()]
    return " ".join(links) or "-"


def _newest(row: Row) -> str:
    return max(m["_dir"] for m in row.runs)


def _rank(r: Row) -> tuple:
    all_batches = not any("trainer.limit_train_batches" in m["_budget"] for m in r.runs)
    full = r.epochs == default_config(r.experiment, r.rule).get("trainer.max_epochs")
    return all_batches, full, len(r.runs), r.epochs or 0, _newest(r)


def budget(r: Row) -> tuple:
    """What a fair comparison spends alike: epochs, device class and batch cap (the seeds are checked apart)."""
    return r.epochs, r.device, r.batches


def headline(rows: list[Row]) -> dict[tuple[str, str], Row]:
    """The row of today's default per (experiment, rule), on one budget shared by the experiment's rules.

    Per experiment, the budget (:func:`budget`) and scorer (rows whose numbers compare: the same FID network, the
    same series) at which the most rules have a default row wins (then the one
    whose ``bsd`` row ranks highest: trained on every batch for today's default number of epochs, the most seeds,
    the most epochs, the newest runs); each rule's row at it is its highest-ranked one. A rule without a row at
    that budget keeps its own highest-ranked row (:func:`on_equal_terms` tells them apart).
    """
    out: dict[tuple[str, str], Row] = {}
    best: dict[tuple[str, str], Row] = {}
    by_budget: dict[str, dict[tuple, dict[str, Row]]] = {}
    for r in rows:
        if r.label != "default":
            continue
        k = (r.experiment, r.rule)
        if k not in best or _rank(r) > _rank(best[k]):
            best[k] = r
        at = by_budget.setdefault(r.experiment, {}).setdefault((budget(r), r.scorer), {})
        if r.rule not in at or _rank(r) > _rank(at[r.rule]):
            at[r.rule] = r
    for exp, budgets in by_budget.items():
        shared = max(budgets, key=lambda b, at=budgets: _budget_score(at[b]))
        for (e, rule), r in best.items():
            if e == exp:
                out[(e, rule)] = budgets[shared].get(rule, r) if len(budgets[shared]) > 1 else r
    return out


def _budget_score(at: dict[str, Row]) -> tuple:
    """How good a budget is for the headline: the headline rules with a row at it, then its bsd row's rank.

    Only bsd and the BP baselines count: the comparison rules' own budget does not move the headline.
    """
    lead = at.get("bsd") or max(at.values(), key=_rank)
    return sum(rule in RULE_ORDER for rule in at), "bsd" in at, _rank(lead)


def on_equal_terms(row: Row, head: dict[tuple[str, str], Row]) -> bool:
    """Whether ``row`` has the budget, seeds and scorer of its experiment's ``bsd`` headline row (True without one)."""
    lead = head.get((row.experiment, "bsd"))
    return lead is None or (budget(lead), lead.seeds, lead.scorer) == (budget(row), row.seeds, row.scorer)


def _comparisons(task: Task, row: Row, head: dict[tuple[str, str], Row]) -> list[str]:
    out = []
    key, spec = f"test/{task.main.key}", task.main
    for b in task.baselines:
        base = head.get((row.experiment, b))
        like = base is not None and base.epochs == row.epochs and base.scorer == row.scorer
        if not like or (b == row.rule and not task.ratio):
            out.append("")
        else:
            out.append(compare(row.mean(key, spec.scale), base.mean(key, spec.scale), task.ratio, spec.digits))
    return out


def _comparison_headers(task: Task) -> list[str]:
    return [f"{task.main.header} / {b}" if task.ratio else f"gap to {b}" for b in task.baselines]


def _grids(rows: list[Row]) -> bool:
    return any((Path(m["_dir"]) / FINAL_GRID).is_file() for r in rows for m in r.runs)


def headline_table(task: Task, rows: list[Row], link_base: Path) -> str:
    """One row per (experiment, rule) of today's default, with baselines, budget, criteria and floors."""
    head = headline(rows)
    chosen = sorted(head.values(), key=lambda r: (r.experiment, rule_key(r.rule)))
    mon = monitored([m for r in rows for m in r.runs])
    keys = [(f"test/{m.key}", m) for m in task.metrics]
    grids = _grids(chosen)
    header = ["experiment", "rule", *(m.header for m in task.metrics), *_comparison_headers(task), f"best {mon}",
              "seeds", "epochs", "s / epoch", "device", "criteria"]
    header += [task.scorer[0]] if task.scorer else []
    header += ["final grids"] if grids else []
    lines = []
    for exp in sorted({r.experiment for r in chosen}):
        for r in (r for r in chosen if r.experiment == exp):
            line = [exp, r.rule, *cells(r, keys), *_comparisons(task, r, head), *cells(r, [(mon, metric(task, mon))]),
                    str(len(r.runs)), str(r.epochs), fmt(r.seconds_per_epoch(), 1), r.devices, r.criteria]
            line += [r.scorer] if task.scorer else []
            line += [grid_links(r, link_base)] if grids else []
            lines.append(line)
        if task.floors:
            runs = [m for r in chosen if r.experiment == exp for m in r.runs]
            for name, vals in sorted(_floors(runs).get("default", {}).items()):
                lines.append([exp, f"{name} (floor)", *(_floor_cell(vals, k, m) for k, m in keys)]
                             + [""] * (len(header) - 2 - len(keys)))
    return markdown(header, lines)


def _floors(runs: list[dict]) -> dict[str, dict[str, dict]]:
    """Floors by the data keys of the runs' labels (``default`` without any), then by name."""
    out: dict[str, dict[str, dict]] = {}
    for m in sorted(runs, key=lambda m: m["_dir"]):
        data = label({k: v for k, v in m.get("_diff", {}).items() if k.startswith("data.")})
        for name, vals in (m.get("floors") or {}).items():
            out.setdefault(data, {})[name] = vals
    return out


def _floor_cell(vals: dict, key: str, spec: Metric) -> str:
    v = vals.get(key)
    return "-" if v is None else f"{spec.scale * v:.{spec.digits}f}"


def floors_table(task: Task, runs: list[dict]) -> str:
    """The floors of an experiment's runs, one row per data configuration and floor (newest runs' values).

    Runs of several series (the task's scorer) name the series before each data configuration.
    """
    named_by = task.scorer[1] if task.scorer else None
    if named_by is not None and len({named_by(m) for m in runs}) > 1:
        floors = {}
        for m in runs:
            for data, named in _floors([m]).items():
                floors.setdefault(f"{named_by(m)}: {data}", {}).update(named)
    else:
        floors = _floors(runs)
    keys = [(f"test/{m.key}", m) for m in task.metrics]
    lines = [[data, name, *(_floor_cell(vals, k, m) for k, m in keys)]
             for data, named in sorted(floors.items()) for name, vals in sorted(named.items())]
    return markdown(["data configuration", "floor", *(m.header for m in task.metrics)], lines) if lines else ""


def _score(task: Task, r: Row) -> tuple:
    v = r.mean(f"test/{task.main.key}", task.main.scale)
    return (rule_key(r.rule), v is None, -(v or 0.0) if task.main.higher else (v or 0.0), r.key)


def screens_table(task: Task, rows: list[Row], exclude: list[Row], link_base: Path) -> str:
    """Every other configuration of an experiment, best headline metric first within each rule."""
    rest = sorted((r for r in rows if all(r is not x for x in exclude)), key=lambda r: _score(task, r))
    if not rest:
        return ""
    mon = monitored([m for r in rows for m in r.runs])
    keys = [(mon, metric(task, mon))] + [(f"test/{m.key}", m) for m in task.metrics]
    grids = _grids(rest)
    header = ["rule", "configuration", "variant", f"best {mon}", *(m.header for m in task.metrics), "seeds",
              "epochs", "batches / epoch", "s / epoch", "device", "criteria"]
    header += [task.scorer[0]] if task.scorer else []
    header += ["final grids"] if grids else []
    lines = []
    for r in rest:
        line = [r.rule, r.label, r.variants, *cells(r, keys), str(len(r.runs)), str(r.epochs), r.batches,
                fmt(r.seconds_per_epoch(), 1), r.devices, r.criteria]
        line += [r.scorer] if task.scorer else []
        line += [grid_links(r, link_base)] if grids else []
        lines.append([*line, f"`{r.command}`"])
    return markdown([*header, "command (lowest seed)"], lines)


def marker_table(rows: list[Row], columns: list[tuple[str, str, Metric]], scorer: str = "") -> str:
    """A table of ``rows`` with metric ``columns`` ``(header, key, spec)``, for a page's marker block.

    ``scorer`` (its header) adds the rows' scorer column where they differ in it (several series of a forecast).
    """
    keys = [(k, spec) for _, k, spec in columns]
    split = bool(scorer) and len({r.scorer for r in rows}) > 1
    lines = [[*([r.scorer] if split else []), r.rule, f"`{r.label}`" if r.label != "default" else "default",
              r.variants, *cells(r, keys), str(len(r.runs)), str(r.epochs), r.devices, f"`{r.command}`"]
             for r in rows]
    return markdown([*([scorer] if split else []), "rule", "configuration", "variant", *(h for h, _, _ in columns),
                     "seeds", "epochs", "device", "command (lowest seed)"], lines)
