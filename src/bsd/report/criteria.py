"""Accuracy against the plausibility criteria met: every rule of a classification experiment at one budget.

The paper's argument is a trade-off: rules that meet more of C1-C5 lose accuracy. For each experiment this picks
the budget (epochs) at which the most rules have a default row, tabulates those rows with the number of criteria
each meets, and plots test accuracy against that number (``criteria_figure``, a PNG beside the results page).
"""

from __future__ import annotations

from pathlib import Path

from .rows import Row, run_criteria
from .tasks import fmt, rule_key

#: the figure's file name, beside the results page
FIGURE = "results_criteria.png"


def met(row: Row) -> int:
    """How many of C1-C5 the row's runs meet (the fewest over its runs)."""
    return min(len(run_criteria(m) or []) for m in row.runs)


def comparison_rows(rows: list[Row]) -> dict[str, list[Row]]:
    """Per experiment, the default rows of every rule at the budget most rules share (at least four rules)."""
    out = {}
    for exp in sorted({r.experiment for r in rows}):
        mine = [r for r in rows if r.experiment == exp and r.label == "default"
                and not any("trainer.limit_train_batches" in m["_budget"] for m in r.runs)]
        by_epochs: dict[int, dict[str, Row]] = {}
        for r in mine:
            best = by_epochs.setdefault(r.epochs or 0, {})
            if r.rule not in best or len(r.runs) > len(best[r.rule].runs):
                best[r.rule] = r
        if not by_epochs:
            continue
        epochs, chosen = max(by_epochs.items(), key=lambda kv: (len(kv[1]), -kv[0]))
        if len(chosen) >= 4:
            out[exp] = sorted(chosen.values(), key=lambda r: (-met(r), rule_key(r.rule)))
    return out


def comparison_table(by_exp: dict[str, list[Row]]) -> str:
    """A Markdown table: experiment, epochs, rule, criteria met, test and validation accuracy, seeds."""
    lines = ["| experiment | epochs | rule | criteria | met | test acc % | best val/acc | seeds |",
             "|---|---|---|---|---|---|---|---|"]
    for exp, rows in by_exp.items():
        for r in rows:
            lines.append(f"| {exp} | {r.epochs} | {r.rule} | {r.criteria} | {met(r)} | "
                         f"{fmt(r.values('test/acc', 100.0), 2)} | {fmt(r.values('val/acc', 100.0), 2)} | "
                         f"{len(r.runs)} |")
    return "\n".join(lines)


def criteria_figure(by_exp: dict[str, list[Row]], path: Path) -> Path:
    """Test accuracy (mean, seeds as dots) against the number of criteria met, one panel per experiment."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(by_exp), figsize=(4.2 * len(by_exp), 3.6), squeeze=False)
    for ax, (exp, rows) in zip(axes[0], by_exp.items(), strict=True):
        for r in rows:
            x, ys = met(r), r.values("test/acc", 100.0)
            ax.scatter([x] * len(ys), ys, s=10, color="0.6")
            ax.scatter([x], [sum(ys) / len(ys)], s=30, color="C0" if r.rule == "bsd" else "C1")
            ax.annotate(r.rule, (x, sum(ys) / len(ys)), textcoords="offset points", xytext=(5, 2), fontsize=8)
        ax.set_xticks(range(6))
        ax.set_xlim(-0.5, 5.9)
        ax.set_xlabel("plausibility criteria met (of C1-C5)")
        ax.set_ylabel("test accuracy %")
        ax.set_title(f"{exp}, {rows[0].epochs} epoch(s)", fontsize=10)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path
