"""The page's other sections: time to accuracy, weight averaging, text samples, grids, stopped runs, prior screens."""

from __future__ import annotations

import json
import os
import statistics
from collections import defaultdict
from pathlib import Path

from .rows import Row, command
from .runs import FINAL_GRID, METRICS, curve_values
from .tables import markdown, monitored
from .tasks import DATASETS, feature_net, fmt, rule_key


def time_to_target(runs: list[dict]) -> str:
    """One row per run that recorded ``time_to_target`` (empty string if none)."""
    rows = sorted((m for m in runs if m.get("time_to_target")),
                  key=lambda m: (m["experiment"], rule_key(m["rule"]), m["_label"], m.get("seed") or 0))
    lines = []
    for m in rows:
        r = m["time_to_target"]
        pct = 100.0 if r["metric"].endswith("acc") else 1.0
        took = (f"{r['train_time_s']:.0f}" if r["reached"]
                else f"- (trained {sum(m.get('epoch_times_s') or [0]):.0f} s)")
        test = (m.get("test") or {}).get(r["metric"].replace("val/", "test/"))
        lines.append([m["experiment"], m["rule"], m["_label"], str(m.get("device") or "cpu"),
                      f"{r['metric']} {'>=' if r.get('mode', 'max') == 'max' else '<='} {pct * r['target']:g}",
                      "yes" if r["reached"] else "no", took, f"{r['epoch']}, {r['step']}" if r["reached"] else "-",
                      f"{pct * r.get('best', float('nan')):.2f}", "-" if test is None else f"{pct * test:.2f}",
                      str(m.get("epochs")), f"`{command(m)}`"])
    return markdown(["experiment", "rule", "configuration", "device", "target", "reached",
                     "training time to target (s)", "epoch, step reached", "best validation", "test",
                     "epochs", "command"], lines) if lines else ""


def weight_average(runs: list[dict]) -> str:
    """Runs that tested both their weight average (``test/X``) and its raw weights (``test_raw/X``), paired."""
    paired = [(m, k) for m in runs for k in sorted(m.get("test") or {})
              if k.startswith("test_raw/") and k.replace("test_raw/", "test/") in m["test"]]
    by: dict = defaultdict(list)
    for m, k in sorted(paired, key=lambda mk: (mk[0].get("seed") or 0, mk[0]["_dir"])):
        by[(m["experiment"], m["_label"], k)].append(m)
    lines = []
    for (exp, lab, raw_key), ms in sorted(by.items()):
        scale = 100.0 if raw_key.endswith("acc") else 1.0
        avg = [scale * m["test"][raw_key.replace("test_raw/", "test/")] for m in ms]
        raw = [scale * m["test"][raw_key] for m in ms]
        for m, a, r in zip(ms, avg, raw, strict=True):
            lines.append([exp, lab, str(m.get("seed")), str(m.get("epochs")), f"{a:.2f}", f"{r:.2f}", f"{a - r:+.2f}",
                          f"`{command(m)}`"])
        if len(ms) > 1:
            diff = statistics.mean(a - r for a, r in zip(avg, raw, strict=True))
            lines.append([exp, lab, f"mean of {len(ms)}", "", fmt(avg, 2), fmt(raw, 2), f"{diff:+.2f}", ""])
    return markdown(["experiment", "configuration", "seed", "epochs", "test, average", "test, raw weights",
                     "average - raw", "command"], lines) if lines else ""


def samples(rows: list[Row]) -> str:
    """The text the lowest seed of each row generated after training (prompt included)."""
    out = []
    for r in rows:
        m = next((m for m in r.runs if m.get("sample")), None)
        if m is not None:
            smp = m["sample"]
            out += [f"`{r.experiment}` / `{r.rule}`, seed {m.get('seed')}, temperature {smp.get('temperature')}:",
                    "", "```text", smp["prompt"] + smp["text"], "```", ""]
    return "\n".join(out).rstrip()


def grid_images(rows: list[Row], link_base: Path) -> str:
    """The final image grid of the lowest seed of each row (originals / reconstructions / samples)."""
    out = []
    for r in rows:
        m = next((m for m in r.runs if (Path(m["_dir"]) / FINAL_GRID).is_file()), None)
        if m is not None:
            link = os.path.relpath(Path(m["_dir"]) / FINAL_GRID, link_base)
            out += [f"`{r.experiment}` / `{r.rule}`, seed {m.get('seed')}:", "",
                    f"![{r.experiment} {r.rule}]({link})", ""]
    return "\n".join(out).rstrip()


def stopped(unfinished: list[dict], runs: list[dict]) -> str:
    """The validation curve of each run that stopped before its test, in the experiment's monitored metric."""
    lines = []
    for u in sorted(unfinished, key=lambda u: (u["experiment"] or "", u["_label"], rule_key(u["rule"] or ""),
                                               u.get("seed") or 0, u["_dir"])):
        same = [m for m in runs if m["experiment"] == u["experiment"]] or [u]
        mon = monitored(same)
        if not (c := curve_values(u["_curve"], mon)):
            continue
        best = (min if any(m["_monitor"] == (mon, "min") for m in same) else max)(c)
        lines.append([str(u["experiment"]), str(u["rule"]), u["_label"], str(u.get("variant") or "-"),
                      str(u.get("seed")), f"{len(c)} / {u.get('planned')}", mon, " ".join(f"{x:.1f}" for x in c),
                      f"{best:.2f}"])
    return markdown(["experiment", "rule", "configuration", "variant", "seed", "epochs done / planned", "metric",
                     "by epoch", "best"], lines) if lines else ""


def _run_info(run: str | None, screen: Path) -> tuple[str | None, int | None]:
    """:func:`feature_net` and seed of the run a screen row scored (read relative to the folder or the screen)."""
    if not run:
        return None, None
    for p in (*(a / run for a in screen.parents), Path(run)):
        if (p / METRICS).is_file():
            try:
                m = json.loads((p / METRICS).read_text())
            except (OSError, json.JSONDecodeError):
                return None, None
            return feature_net(m), m.get("seed")
    return None, None


def prior_grids(screen: dict) -> dict[tuple[str, str, str, str], Path]:
    """The grid PNG each (data, prior, sampling, rule) of a prior screen names (whether it exists or not)."""
    out = {}
    for r in screen["rows"]:
        sampling = r.get("sampling", "bernoulli")
        seed = _run_info(r.get("run"), Path(screen["file"]))[1]
        tag = r["prior"].replace(":", "") + ("" if sampling == "bernoulli" else f"_{sampling}")
        name = f"{r['data']}_{r['rule']}_{tag}{f'_seed{seed}' if seed else ''}.png"
        out[(r["data"], r["prior"], sampling, r["rule"])] = Path(screen["file"]).parent / "grids" / name
    return out


def prior_table(screens: list[dict], link_base: Path) -> str:
    """Sample FID of trained autoencoders under each latent prior, with the bsd / bp_ann ratio per prior."""
    lines, cmds = [], []
    for sc in screens:
        rows = [{"sampling": "bernoulli", **r} for r in sc["rows"]]
        fid = {(r["data"], r["prior"], r["sampling"], r["rule"]): r["fid_samples"] for r in rows}
        info = {(r["data"], r["prior"], r["sampling"], r["rule"]): _run_info(r.get("run"), Path(sc["file"]))
                for r in rows}
        grids = prior_grids(sc)
        for data, prior, sampling in dict.fromkeys((r["data"], r["prior"], r["sampling"]) for r in rows):
            b, a = fid.get((data, prior, sampling, "bsd")), fid.get((data, prior, sampling, "bp_ann"))
            links = [f"[png]({os.path.relpath(g, link_base)})" if (g := grids.get((data, prior, sampling, rule)))
                     and g.is_file() else "-" for rule in ("bsd", "bp_ann")]
            got = [info[k] for rule in ("bsd", "bp_ann") if (k := (data, prior, sampling, rule)) in info]
            net = " / ".join(dict.fromkeys(n for n, _ in got if n))
            seed = " / ".join(dict.fromkeys(str(sd) for _, sd in got if sd is not None))
            lines.append([DATASETS.get(data, data), prior, sampling, f"{b:.1f}" if b else "-",
                          f"{a:.1f}" if a else "-", f"{b / a:.2f}" if a and b else "-", seed or "-", net or "-",
                          *links])
        if sc.get("command"):
            cmds.append(f"`{sc['command']}`")
    table = markdown(["data", "prior", "latent spikes", "bsd FID samples", "bp_ann FID samples", "bsd / bp_ann",
                      "seed", "FID network", "bsd grid", "bp_ann grid"], lines)
    return table + ("\n\nCommands: " + "; ".join(cmds) if cmds else "")
