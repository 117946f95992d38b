"""Build ``docs/results.md`` from run directories (their ``metrics.json``), never by hand.

Usage: ``python -m bsd.report results/ outputs/ multirun/ --out docs/results.md``
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import yaml

RULE_ORDER = ("bsd", "bp_snn", "bp_ann")
PAPER = {  # published reference numbers (Lv et al. 2026), cited, never measured here
    ("mnist_cnn", "bsd"): "99.44",
    ("fmnist_cnn", "bsd"): "~91.0 (derived)",
}
DATASET_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}


#: ablation variants whose setting became their experiment's default after they ran (with the date): their runs
#: also stand in the main tables, under the label of their setting; their commands keep ``variant=NAME``
DEFAULT_VARIANTS = {("mnist_cnn", "soft"): "2026-12-04", ("timeseries_elec", "b32"): "2026-12-04",
                    ("text_char", "tt1"): "2026-12-04", ("timeseries_elec", "T1_tt4"): "2026-12-04",
                    ("text_char", "fwd_lam0.2"): "2026-12-05", ("timeseries_elec", "T4_fwd99"): "2026-12-05",
                    ("text_char", "fwd_lam0.4"): "2026-12-05", ("timeseries_elec", "p48d7s3e-3"): "2026-12-05"}


def is_main(m: dict) -> bool:
    """A run of an experiment's default (no ``variant``, or one of :data:`DEFAULT_VARIANTS`)."""
    v = m.get("variant")
    return not v or (m.get("experiment"), v) in DEFAULT_VARIANTS


def arch_label(cfg: dict) -> str:
    """Short architecture string from a resolved config, e.g. ``mlp 4096-256x4`` or ``cnn c64-128-64 fc256``."""
    m = cfg.get("model", {})
    if m.get("arch") == "rnn":  # the batch size too: it changed the text default (2026-11-29)
        t = 1 if m.get("rule") == "bp_ann" else m.get("T")
        d = cfg.get("data") or {}
        bs = d.get("batch_size")
        label = f"rnn {'-'.join(map(str, m.get('widths', [])))} T{t}" + (f" b{bs}" if bs else "")
        if d.get("lags"):  # forecasting inputs and target (2026-11-29): the day's lags, the change
            label += f" lags{d['lags']}"
        if (ctx := d.get("context") or 1) > 1:  # text: characters per input step
            label += f" ctx{ctx}"
        if d.get("predict") in ("change", "residual"):  # what the models output (residual: 2026-12-03)
            label += f" {d['predict']}"
            if (parts := d.get("residual_parts") or 1) > 1:  # one map per part of the day (2026-12-04)
                label += f"{parts}"
                if ridge := d.get("residual_ridge"):  # ... shrunk towards the all-day map (2026-12-05)
                    label += f"r{ridge:g}"
            if (days := d.get("residual_days") or 1) > 1:  # ... and per day group (2026-12-05, fourth session)
                label += f"d{days}"
            if (smooth := d.get("residual_smooth")) and (parts * days > 1):  # neighbouring groups' maps tied
                label += f"s{smooth:g}"
        if fl := d.get("feature_lags"):  # forecasting: each feature's past values too (2026-12-04)
            label += f" flags{fl}"
        if gate := m.get("context_gate"):  # hidden units gated by the part of the day, every rule (2026-12-04)
            label += f" gate{gate}"
        if planes := m.get("gate_planes"):  # ... and by random halfspaces of the input step (2026-12-04)
            label += f" planes{planes}" + (f"s{m['gate_seed']}" if m.get("gate_seed") else "")
        if aux := d.get("aux_horizons"):  # forecasting: further horizons trained on (2026-12-03)
            label += f" aux{'-'.join(map(str, aux))}"
        if m.get("readout_skip"):  # the readout also reads the stimulus (2026-12-03)
            label += " skip"
        if m.get("recurrent_gain") == 0:  # no recurrence: W_h zero and untrained (2026-12-04)
            label += " norec"
        return label
    if m.get("arch") == "ae":
        t = 1 if m.get("rule") == "bp_ann" else m.get("T")
        label = f"ae c{'-'.join(map(str, m.get('channels', [])))} z{m.get('latent')} T{t}"
        if m.get("rule") == "bsd" and (w := float(m.get("decoder_match") or 0.0)) > 0:  # 2026-12-01
            label += f" match{w:g}"
        return label
    if m.get("arch") == "cnn":
        return f"cnn c{'-'.join(map(str, m.get('channels', [])))} fc{'-'.join(map(str, m.get('fc', [])))}"
    w = list(m.get("widths", []))
    parts, i = [], 0
    while i < len(w):
        j = i
        while j < len(w) and w[j] == w[i]:
            j += 1
        parts.append(f"{w[i]}x{j - i}" if j - i > 1 else str(w[i]))
        i = j
    return "mlp " + "-".join(parts)


def arch_overrides(cfg: dict) -> dict[str, str]:
    """Command-line overrides that pin a run's shape.

    rnn: widths, T, batch size, forecast inputs; ae: channels and latent width; others: none. With
    them a command still reproduces its row after the experiment's default shape changed.
    """
    m = cfg.get("model", {})
    if m.get("arch") == "ae":
        return {"model.channels": f"'model.channels=[{','.join(map(str, m.get('channels', [])))}]'",
                "model.latent": f"model.latent={m.get('latent')}"}
    if m.get("arch") != "rnn":
        return {}
    out = {"model.widths": f"'model.widths=[{','.join(map(str, m.get('widths', [])))}]'",
           "model.T": f"model.T={m.get('T')}"}
    d = cfg.get("data") or {}
    if bs := d.get("batch_size"):
        out["data.batch_size"] = f"data.batch_size={bs}"
    if "window" in d:  # a forecasting run (runs from before these keys existed used no lags and the level)
        out["data.lags"] = f"data.lags={d.get('lags', 0)}"
        out["data.predict"] = f"data.predict={d.get('predict', 'level')}"
        if d.get("predict") == "residual":  # one map per part of the day (2026-12-04; one map before)
            out["data.residual_parts"] = f"data.residual_parts={d.get('residual_parts', 1)}"
            if (d.get("residual_parts") or 1) > 1:  # the parts' maps shrunk towards the all-day one (2026-12-05)
                out["data.residual_ridge"] = f"data.residual_ridge={d.get('residual_ridge') or 0:g}"
            # maps per day group and ties between neighbouring groups (2026-12-05, fourth session; none before)
            out["data.residual_days"] = f"data.residual_days={d.get('residual_days') or 1}"
            if (d.get("residual_parts") or 1) * (d.get("residual_days") or 1) > 1:
                out["data.residual_smooth"] = f"data.residual_smooth={d.get('residual_smooth') or 0:g}"
    return out


def _reco_on(reco: dict) -> str:
    """``model.reco.on`` of a resolved config (YAML 1.1 read an unquoted ``on:`` key as True)."""
    return reco.get("on", reco.get(True, "voltage"))


def _population_code(m: dict) -> dict | None:
    """The ``model.code`` of a population-coded rnn (the forecaster), else ``None``."""
    code = m.get("code") or {}
    return code if m.get("arch") == "rnn" and code.get("kind") == "population" else None


def setting_overrides(cfg: dict) -> dict[str, str]:
    """Overrides that pin the settings whose defaults changed on 2026-12-01, added to every command lacking them.

    ae: the learning rate, the latent prior and what it is fitted to (``model.latent_prior`` and
    ``model.latent_space``, 2026-12-02) and, for
    ``bsd``, the push margin and the high band's push weight; mlp, cnn
    and rnn ``bsd``: what ReCo compares (``model.reco.on``, ``center``, and for the cnn ``pool``; for a
    population-coded rnn the code's shape and λ, 2026-12-03, and its context gating, 2026-12-04; for every rnn
    the credit through time, ``model.reco.through_time``, 2026-12-04, and its path, ``time_path``, 2026-12-05);
    cnn spiking rules: the LIF reset (``model.neuron.reset``, soft for mnist_cnn since 2026-12-04). Runs
    from before a key existed get the value they ran with (the paper's hinge, no pooling, hard reset).
    """
    m = cfg.get("model", {})
    reco = m.get("reco") or {}
    out: dict[str, str] = {}
    if m.get("arch") == "ae":
        out["model.optimizer.lr"] = f"model.optimizer.lr={(m.get('optimizer') or {}).get('lr')}"
        out["model.latent_space"] = f"model.latent_space={m.get('latent_space', 'rate')}"
        prior = m.get("latent_prior", "gaussian")
        out["model.latent_prior"] = f"model.latent_prior={prior}"
        if prior == "gmm":
            out["model.latent_components"] = f"model.latent_components={m.get('latent_components', 10)}"
        if m.get("rule") == "bsd":
            out["model.reco.margin"] = f"model.reco.margin={reco.get('margin', 'zero')}"
            out["model.reco.frequency.lam_high"] = \
                f"model.reco.frequency.lam_high={(reco.get('frequency') or {}).get('lam_high')}"
    if m.get("arch") == "cnn" and m.get("rule") != "bp_ann":  # mnist_cnn resets by subtraction since 2026-12-04
        out["model.neuron.reset"] = f"model.neuron.reset={(m.get('neuron') or {}).get('reset', 'hard')}"
    if m.get("arch") in ("mlp", "cnn", "rnn") and m.get("rule") == "bsd":
        on = _reco_on(reco)
        out["model.reco.on"] = f"model.reco.on={on}"
        out["model.reco.center"] = f"model.reco.center={reco.get('center', 'none')}"
        if m.get("arch") == "rnn":  # credit through time inside a layer (text_char: 1 since 2026-12-04)
            out["model.reco.through_time"] = f"model.reco.through_time={reco.get('through_time') or 0}"
            out["model.reco.time_path"] = f"model.reco.time_path={reco.get('time_path', 'rest')}"  # 2026-12-05
        if m.get("arch") == "cnn":
            pool = reco.get("pool")
            out["model.reco.pool"] = f"model.reco.pool={'null' if pool is None else pool}"
        if code := _population_code(m):
            out["model.code.shape"] = f"model.code.shape={code.get('shape', 'gaussian')}"
            out["model.reco.lam"] = f"model.reco.lam={reco.get('lam')}"
            # the target code gated by the time of day (off by default; since 2026-12-03, unit assignment 2026-12-04)
            out["model.code.context_bins"] = f"model.code.context_bins={code.get('context_bins') or 0}"
            out["model.code.context_assign"] = \
                f"model.code.context_assign={str(bool(code.get('context_assign', False))).lower()}"
        elif m.get("arch") == "rnn":  # text's push weight (0.05 until 2026-12-05, 0.2, then 0.4 since)
            out["model.reco.lam"] = f"model.reco.lam={reco.get('lam', 0.05)}"
    return out


#: the ``T`` token of an architecture label (spiking steps per position), e.g. ``T4``
T_TOKEN = re.compile(r"T\d+")


def shape_of(arch: str) -> str:
    """An architecture label without its ``T`` token (bp_ann always runs one step), e.g. ``rnn 1024 b64``."""
    return " ".join(w for w in arch.split() if not T_TOKEN.fullmatch(w))


def shapes_by_experiment(runs: list[dict]) -> dict[str, set[str]]:
    """Network shapes (:func:`shape_of` the architecture labels) of each experiment's runs."""
    out: dict[str, set[str]] = defaultdict(set)
    for m in runs:
        out[m["experiment"]].add(shape_of(m["_arch"]))
    return out


def pinned_command(m: dict, shapes: dict[str, set[str]]) -> str:
    """The run's command plus the setting pins it lacks (and its shape pins where the experiment has several)."""
    cmd = m.get("command", "")
    pins = dict(m.get("_setting_overrides") or {})
    if len(shapes.get(m["experiment"], ())) >= 2:
        pins = {**(m.get("_arch_overrides") or {}), **pins}
    extra = [o for k, o in pins.items() if f"{k}=" not in cmd]
    return " ".join([cmd, *extra])


def batches_label(cfg: dict) -> str:
    """Training batches per epoch: ``all``, or the cap set by ``trainer.limit_train_batches``."""
    lim = cfg.get("trainer", {}).get("limit_train_batches", 1.0)
    if isinstance(lim, int) and not isinstance(lim, bool) and lim != 1:
        return str(lim)
    if isinstance(lim, float) and lim < 1.0:
        return f"{100 * lim:g} %"
    return "all"


def _config(run_dir: Path) -> dict:
    p = run_dir / "config_resolved.yaml"
    return (yaml.safe_load(p.read_text()) or {}) if p.is_file() else {}


def val_curve(run_dir: Path) -> list[float]:
    """Validation accuracy (%) after each epoch, from the run's CSV log."""
    p = run_dir / "csv" / "metrics.csv"
    if not p.is_file():
        return []
    with p.open() as f:
        return [100 * float(r["val/acc"]) for r in csv.DictReader(f) if r.get("val/acc")]


def prior_label(cfg: dict) -> str:
    """An autoencoder's latent prior and what it is fitted to, e.g. ``gaussian on current``, ``gmm:4 on current``.

    Runs from before a key existed used the values of that time: one Gaussian on latent rates.
    """
    model = cfg.get("model", {})
    prior = model.get("latent_prior", "gaussian")
    if prior == "gmm":
        prior = f"gmm:{model.get('latent_components', 10)}"
    return f"{prior} on {model.get('latent_space', 'rate')}"


def find_runs(roots: Iterable[str | Path]) -> list[dict]:
    """Every ``metrics.json`` below ``roots`` (with its directory under ``_dir``)."""
    runs = []
    for root in roots:
        for p in sorted(Path(root).rglob("metrics.json")):
            try:
                m = json.loads(p.read_text())
            except (OSError, json.JSONDecodeError):
                continue
            if "test" in m and "rule" in m:
                m["_dir"] = str(p.parent)
                if "resume=" in m.get("command", ""):  # a resumed run: the command that trains it from scratch
                    m["command"] = re.sub(r" resume=\S+", "", m["command"])
                cfg = _config(p.parent)
                m["_arch"] = arch_label(cfg)
                m["_batches"] = batches_label(cfg)
                m["_arch_overrides"] = arch_overrides(cfg)
                m["_setting_overrides"] = setting_overrides(cfg)
                m["_reco"] = reco_label(cfg)
                m["_prior"] = prior_label(cfg)
                runs.append(m)
    return runs


def unfinished_runs(roots: Iterable[str | Path]) -> list[dict]:
    """Run directories with a CSV log but no ``metrics.json`` (stopped before testing)."""
    out = []
    for root in roots:
        for p in sorted(Path(root).rglob("config_resolved.yaml")):
            d = p.parent
            if (d / "metrics.json").is_file() or not (curve := val_curve(d)):
                continue
            cfg = _config(d)
            out.append({"experiment": cfg.get("experiment_name"), "rule": cfg.get("model", {}).get("rule"),
                        "variant": cfg.get("variant"), "seed": cfg.get("seed"), "_arch": arch_label(cfg),
                        "_dir": str(d), "curve": curve, "planned": cfg.get("trainer", {}).get("max_epochs")})
    return out


def _mean_std(xs: list[float]) -> str:
    if not xs:
        return "-"
    if len(xs) == 1:
        return f"{xs[0]:.2f}"
    return f"{statistics.mean(xs):.2f} ± {statistics.stdev(xs):.2f}"


def _acc(m: dict) -> float | None:
    v = m.get("test", {}).get("test/acc")
    return None if v is None else 100.0 * v


def group(runs: list[dict], key) -> dict:
    """Group runs by ``key(run)``; within a group keep one run per seed (the newest)."""
    out: dict = defaultdict(dict)
    for m in sorted(runs, key=lambda r: r["_dir"]):
        out[key(m)][m.get("seed")] = m
    return {k: list(v.values()) for k, v in out.items()}


def _device(ms: list[dict]) -> str:
    return ", ".join(sorted({m.get("device", "cpu") for m in ms}))


def ema_label(cfg: dict) -> str:
    """Weight averaging of a run (``ema.decay``, 2026-12-02), e.g. ``EMA 0.999 from epoch 5``; ``""`` without."""
    ema = cfg.get("ema") or {}
    if ema.get("decay") is None:
        return ""
    start = int(ema.get("start_epoch") or 0)
    return f"EMA {float(ema['decay']):g}" + (f" from epoch {start}" if start else "")


def reco_label(cfg: dict) -> str:
    """What a classifier's ``bsd`` ReCo compares, e.g. ``voltages`` or ``centred rates, 4x4``; ``""`` for BP rules.

    Keeps rows of the earlier default (the paper's voltages) apart from rows of today's (2026-12-01).
    """
    m = cfg.get("model", {})
    if m.get("rule") != "bsd" or m.get("arch") not in ("mlp", "cnn", "rnn"):
        return ""
    reco = m.get("reco") or {}
    on = _reco_on(reco)
    back = ""
    k = reco.get("through_time") or 0
    if m.get("arch") == "rnn" and reco.get("time_path", "rest") == "forward":  # along the forward stream (2026-12-05)
        data = cfg.get("data") or {}
        span = data.get("seq_len") or data.get("window")
        back = (", forward stream" + (" through the sequence" if span and k + 1 >= span
                                      else f", cut every {k + 1} position{'s' if k else ''}")
                + (" (random feedback)" if k and reco.get("time_feedback") == "random" else ""))
    elif m.get("arch") == "rnn" and k:  # credit k positions back (2026-12-04)
        back = f", {k} position{'s' if k > 1 else ''} back" + (
            " (random feedback)" if reco.get("time_feedback") == "random" else "")
    if m.get("arch") == "rnn" and on == "voltage" and reco.get("center", "none") == "none" and not back:
        return ""  # the rnn's rows from before the key existed stay as they were
    label = "rates" if on == "spikes" else "voltages"
    if reco.get("center", "none") != "none":
        label = f"centred {label}" if reco["center"] == "batch" else f"{label}, centred pushes"
    if (pool := reco.get("pool")) is not None and m.get("arch") == "cnn":
        label += f", {pool}x{pool}"
    if m.get("arch") in ("mlp", "cnn") and (m.get("neuron") or {}).get("reset", "hard") == "soft":
        label += ", soft reset"  # the classifiers' LIF resets by subtraction (screened 2026-12-03)
    if on == "spikes" and (code := _population_code(m)):
        # the forecaster's target code and push weight (its default changed on 2026-12-03)
        label += f", {code.get('shape', 'gaussian')} code, λ {float(reco.get('lam', 0.6)):g}"
        if bins := code.get("context_bins") or 0:  # the code gated by a context (2026-12-03; assigned 2026-12-04)
            label += f", {bins} {code.get('context', 'day')} blocks"
            if code.get("context_assign"):
                label += " assigned"
    elif m.get("arch") == "rnn" and float(reco.get("lam", 0.05)) != 0.05:  # text's λ (0.2, then 0.4 since 2026-12-05)
        label += f", λ {float(reco['lam']):g}"
    if ema := ema_label(cfg):
        label += f", {ema}"
    return label + back


def classification_table(runs: list[dict]) -> str:
    """Mean ± std test accuracy over seeds and the gap to BP.

    One row per experiment, architecture, rule and what bsd's ReCo compares.
    """
    main = [m for m in runs if is_main(m) and m.get("experiment", "").endswith(("_mlp", "_cnn"))]
    groups = group(main, lambda m: (m["experiment"], f"{m['_arch']} ({_device([m])})", m["rule"],
                                    m.get("_reco", "")))
    lines = ["| experiment | architecture | rule | bsd setting | test acc % (mean ± std) | seeds | epochs | s / epoch "
             "| gap to bp_snn | gap to bp_ann | device | paper |", "|" + "---|" * 12]
    exps = sorted({(e, a) for e, a, _, _ in groups}, key=lambda ea: (ea[0].split("_")[1], ea[0], ea[1]))
    for exp, arch in exps:
        means = {r: statistics.mean(a) for r in ("bp_snn", "bp_ann")
                 if (a := [x for m in groups.get((exp, arch, r, ""), []) if (x := _acc(m)) is not None])}
        keys = sorted((k for k in groups if k[:2] == (exp, arch)),
                      key=lambda k: (RULE_ORDER.index(k[2]) if k[2] in RULE_ORDER else 9, k[3]))
        for key in keys:
            rule, reco, ms = key[2], key[3], groups[key]
            accs = [a for m in ms if (a := _acc(m)) is not None]
            mean = statistics.mean(accs) if accs else None
            epochs = sorted({m.get("epochs") for m in ms})
            tpe = [m["time_per_epoch_s"] for m in ms if m.get("time_per_epoch_s")]
            gaps = [f"{mean - means[b]:+.2f}" if b in means and rule != b and mean is not None else ""
                    for b in ("bp_snn", "bp_ann")]
            tpe_s = f"{statistics.mean(tpe):.1f}" if tpe else "-"
            paper = PAPER.get((exp, rule), "") if arch.startswith("cnn") else ""
            lines.append(f"| {exp} | {arch.split(' (')[0]} | {rule} | {reco or '-'} | {_mean_std(accs)} | "
                         f"{len(accs)} | {'/'.join(map(str, epochs))} | {tpe_s} | {gaps[0]} | {gaps[1]} | "
                         f"{_device(ms)} | {paper} |")
    return "\n".join(lines)


def _metric(m: dict, key: str, scale: float = 1.0) -> float | None:
    v = m.get("test", {}).get(key)
    return None if v is None else scale * v


def _fmt(xs: list[float], digits: int) -> str:
    if not xs:
        return "-"
    if len(xs) == 1:
        return f"{xs[0]:.{digits}f}"
    return f"{statistics.mean(xs):.{digits}f} ± {statistics.stdev(xs):.{digits}f}"


def _seq_groups(runs: list[dict], experiment: str) -> dict:
    main = [m for m in runs if is_main(m) and m.get("experiment") == experiment]

    def label(m: dict) -> str:
        # bsd rows that compare something other than the paper's voltages get their own row, e.g. "bsd (centred rates)"
        return f"{m['rule']} ({m['_reco']})" if m.get("_reco") else m["rule"]

    def steps(m: dict) -> str:
        return next((w for w in m["_arch"].split() if T_TOKEN.fullmatch(w)), "")

    # a rule run at several T on one shape (bp_snn when the forecaster's default T changed, 2026-12-04) gets a row per T
    ts: dict = defaultdict(set)
    for m in main:
        ts[(shape_of(m["_arch"]), _device([m]), label(m))].add(steps(m))

    def key(m: dict) -> tuple:
        k = (shape_of(m["_arch"]), _device([m]), label(m))
        return k if len(ts[k]) < 2 else (*k[:2], f"{k[2]} ({steps(m)})")

    return group(main, key)


def _batches(ms: list[dict]) -> str:
    return "/".join(sorted({m.get("_batches", "all") for m in ms}))


def _means(groups: dict, key: str, scale: float = 1.0) -> dict:
    """Mean of test metric ``key`` per group (groups without it are left out)."""
    out = {}
    for g, ms in groups.items():
        v = [x for m in ms if (x := _metric(m, key, scale)) is not None]
        if v:
            out[g] = statistics.mean(v)
    return out


def _by_rule(groups: dict) -> list:
    """Groups ordered by architecture, device, then bsd / bp_snn / bp_ann."""

    def order(rule: str) -> int:
        name = rule.split(" ", maxsplit=1)[0]
        return RULE_ORDER.index(name) if name in RULE_ORDER else 9

    return sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], order(kv[0][2]), kv[0][2]))


def variant_groups(var: list[dict]) -> dict[tuple[str, str, str], list[dict]]:
    """Ablation runs by (experiment, variant label, rule), one run per seed.

    Runs of one variant name but different network shapes (e.g. ``epochs5`` of an earlier and of
    today's default) stay apart; their label then names the shape, e.g. ``epochs5 (rnn 256 b128)``.
    So do runs of one name trained for different numbers of epochs (e.g. a one-epoch GPU screen beside
    two-epoch CPU runs): their label names the epochs, e.g. ``hgate8 (1 ep)``.
    """
    by_shape = group(var, lambda m: (m["experiment"], m["variant"], m["rule"], shape_of(m["_arch"]),
                                     m.get("epochs")))
    shapes: dict = defaultdict(set)
    epochs: dict = defaultdict(set)
    for exp, v, rule, shape, ep in by_shape:
        shapes[exp, v, rule].add(shape)
        epochs[exp, v, rule].add(ep)

    def label(exp: str, v: str, rule: str, shape: str, ep) -> str:
        tags = ([shape] if len(shapes[exp, v, rule]) > 1 else []) + \
            ([f"{ep} ep"] if len(epochs[exp, v, rule]) > 1 else [])
        return f"{v} ({', '.join(tags)})" if tags else v

    return {(exp, label(exp, v, rule, shape, ep), rule): ms for (exp, v, rule, shape, ep), ms in by_shape.items()}


def _best_variant(runs: list[dict], experiment: str, rule: str, key: str,
                  lower: bool) -> tuple[str, float, str] | None:
    """The ablation variant of ``rule`` with the best mean test ``key``: name, mean and ``(N seed[s])``, if any."""
    var = [m for m in runs if m.get("variant") and m.get("experiment") == experiment and m.get("rule") == rule]
    groups = {v: ms for (_, v, _), ms in variant_groups(var).items()}
    means = _means(groups, key)
    if not means:
        return None
    name = (min if lower else max)(means, key=means.get)
    n = len(groups[name])
    return name, means[name], f"({n} seed{'s' if n > 1 else ''})"


def text_table(runs: list[dict], experiment: str = "text_char") -> str:
    """Next-character accuracy and bits per character by rule, with the n-gram floors of the same split."""
    groups = _seq_groups(runs, experiment)
    if not groups:
        return ""
    lines = ["| model | architecture | test acc % (mean ± std) | bits / char | seeds | epochs | batches / epoch "
             "| s / epoch | gap to bp_snn (points) | device |", "|" + "---|" * 10]
    means = _means(groups, "test/acc", 100)
    floors: dict = {}
    for (arch, dev, rule), ms in _by_rule(groups):
        accs = [a for m in ms if (a := _metric(m, "test/acc", 100)) is not None]
        bpc = [b for m in ms if (b := _metric(m, "test/bpc")) is not None]
        tpe = [m["time_per_epoch_s"] for m in ms if m.get("time_per_epoch_s")]
        ref = means.get((arch, dev, "bp_snn"))
        gap = f"{means[(arch, dev, rule)] - ref:+.2f}" if ref is not None and rule != "bp_snn" and accs else ""
        lines.append(f"| {rule} | {ms[0]['_arch']} | {_fmt(accs, 2)} | {_fmt(bpc, 3)} | {len(accs)} | "
                     f"{'/'.join(map(str, sorted({m.get('epochs') for m in ms})))} | {_batches(ms)} | "
                     f"{_fmt(tpe, 1) if tpe else '-'} | {gap} | {dev} |")
        for m in ms:
            floors.update(m.get("floors") or {})
    for name, f in sorted(floors.items()):
        lines.append(f"| {name} count model (floor) | most frequent next character | "
                     f"{100 * f['test/acc']:.2f} | - | - | - | - | - | | same split |")
    notes = []
    for rule in RULE_ORDER:
        if best := _best_variant(runs, experiment, rule, "test/acc", lower=False):
            beaten = [f"{n} ({100 * f['test/acc']:.2f})" for n, f in sorted(floors.items()) if f["test/acc"] < best[1]]
            notes.append(f"- Best `{rule}` ablation (table below): `{best[0]}` {best[2]}, {100 * best[1]:.2f} % test; "
                         f"floors it beats: {', '.join(beaten) or 'none'}.")
    return "\n".join(lines) + ("\n\n" + "\n".join(notes) if notes else "")


def forecast_table(runs: list[dict], experiment: str = "timeseries_elec") -> str:
    """Forecast errors by rule beside the floors, MSE ratio to bp_ann, and which floors beat which model."""
    groups = _seq_groups(runs, experiment)
    if not groups:
        return ""
    lines = ["| model | architecture | test MSE (normalised) | MAE | RMSE | MSE / bp_ann MSE | seeds | epochs "
             "| batches / epoch | s / epoch | device |", "|" + "---|" * 11]
    mse_mean, floors, notes = _means(groups, "test/mse"), {}, []
    for (arch, dev, rule), ms in _by_rule(groups):
        mse = [x for m in ms if (x := _metric(m, "test/mse")) is not None]
        mae = [x for m in ms if (x := _metric(m, "test/mae")) is not None]
        rmse = [x for m in ms if (x := _metric(m, "test/rmse")) is not None]
        tpe = [m["time_per_epoch_s"] for m in ms if m.get("time_per_epoch_s")]
        ann = mse_mean.get((arch, dev, "bp_ann"))
        ratio = f"{statistics.mean(mse) / ann:.2f}" if ann and mse else "-"
        lines.append(f"| {rule} | {ms[0]['_arch']} | {_fmt(mse, 5)} | {_fmt(mae, 1)} | {_fmt(rmse, 1)} | {ratio} | "
                     f"{len(mse)} | {'/'.join(map(str, sorted({m.get('epochs') for m in ms})))} | {_batches(ms)} | "
                     f"{_fmt(tpe, 1) if tpe else '-'} | {dev} |")
        for m in ms:
            floors.update(m.get("floors") or {})
        for name, f in sorted((m.get("floors") or {}).items()):
            if mse and f["test/mse"] < statistics.mean(mse):
                notes.append(f"- The {name} floor (MSE {f['test/mse']:.5f}) beats `{rule}` ({arch}, "
                             f"MSE {statistics.mean(mse):.5f}).")
    for name, f in sorted(floors.items()):
        lines.append(f"| {name} (floor) | same input window | {f['test/mse']:.5f} | {f['test/mae']:.1f} | "
                     f"{f['test/rmse']:.1f} | - | - | - | - | - | same split |")
    ann = min((v for (_, _, r), v in mse_mean.items() if r == "bp_ann"), default=None)
    for rule in RULE_ORDER:
        if best := _best_variant(runs, experiment, rule, "test/mse", lower=True):
            ratio = f" ({best[1] / ann:.2f} x the best default `bp_ann` MSE)" if ann else ""
            notes.append(f"- Best `{rule}` ablation (table below): `{best[0]}` {best[2]}, MSE {best[1]:.5f}{ratio}.")
    return "\n".join(lines) + ("\n\n" + "\n".join(sorted(set(notes))) if notes else "")


def feature_net_id(m: dict) -> str:
    """Which FID feature network scored a run: its fingerprint, or (runs from before fingerprints) its test accuracy.

    Different networks give FIDs that do not compare; runs before 2026-12-02 retrained the network per
    machine, and one accuracy stands for one network there.
    """
    g = m.get("generation") or {}
    if g.get("feature_net_sha256"):
        return str(g["feature_net_sha256"])
    acc = g.get("feature_net_test_acc")
    return f"acc {100 * acc:.2f} %" if acc is not None else "-"


def generation_table(runs: list[dict], link_base: Path = Path("docs")) -> str:
    """Autoencoders: reconstruction MSE, FID (classifier features) of reconstructions and samples, grids.

    Rows are grouped by the FID feature network too: seeds scored by different networks are never
    averaged, and each ratio is taken against `bp_ann` scored by the same network.
    """
    main = [m for m in runs if is_main(m) and m.get("experiment", "").endswith("_ae")]
    if not main:
        return ""
    groups = group(main, lambda m: (m["experiment"], shape_of(m["_arch"]), _device([m]), feature_net_id(m),
                                    m.get("_prior", "gaussian on rate"), m["rule"]))
    lines = ["| experiment | model | architecture | test MSE | FID recon | FID samples | sample FID / bp_ann | "
             "latent prior | FID network | seeds | epochs | s / epoch | device | final grid |", "|" + "---|" * 14]
    fid_mean = {k: statistics.mean(v) for k, ms in groups.items()
                if (v := [x for m in ms if (x := _metric(m, "test/fid_samples")) is not None])}
    nets: dict = {}
    order = sorted(groups.items(), key=lambda kv: (*kv[0][:5],
                                                   RULE_ORDER.index(kv[0][5]) if kv[0][5] in RULE_ORDER else 9))
    for (exp, arch, dev, net, prior, rule), ms in order:
        mse = [x for m in ms if (x := _metric(m, "test/mse")) is not None]
        fr = [x for m in ms if (x := _metric(m, "test/fid_recon")) is not None]
        fs = [x for m in ms if (x := _metric(m, "test/fid_samples")) is not None]
        tpe = [m["time_per_epoch_s"] for m in ms if m.get("time_per_epoch_s")]
        ann = fid_mean.get((exp, arch, dev, net, prior, "bp_ann"))
        ratio = f"{statistics.mean(fs) / ann:.2f}" if ann and fs else "-"
        grid = Path(ms[-1]["_dir"]) / "grids" / "final.png"
        link = f"[png]({os.path.relpath(grid, link_base)})" if grid.is_file() else "-"
        lines.append(f"| {exp} | {rule} | {ms[0]['_arch']} | {_fmt(mse, 4)} | {_fmt(fr, 2)} | {_fmt(fs, 2)} | "
                     f"{ratio} | {prior} | {net} | {len(mse)} | "
                     f"{'/'.join(map(str, sorted({m.get('epochs') for m in ms})))} | "
                     f"{_fmt(tpe, 1) if tpe else '-'} | {dev} | {link} |")
        for m in ms:
            g = m.get("generation") or {}
            if g.get("feature_net_test_acc") is not None:
                shipped = "shipped with the package, " if g.get("feature_net_sha256") else ""
                nets[(m["dataset"], net)] = (g["feature_net_test_acc"], shipped, g.get("feature_net_command"))
    notes = [f"- FID network `{net}` ({DATASET_NAMES.get(d, d)}): BP-trained CNN classifier, test accuracy "
             f"{100 * acc:.2f} % ({shipped}trained by `{cmd}`)."
             for (d, net), (acc, shipped, cmd) in sorted(nets.items())]
    return "\n".join(lines) + ("\n\n" + "\n".join(notes) if notes else "")


def find_prior_screens(roots: Iterable[str | Path]) -> list[dict]:
    """The latent-prior screens (``scripts/prior_screen.py``: ``screen/priors*.json``) under ``roots``."""
    out = []
    for root in roots:
        for f in sorted(Path(root).rglob("screen/priors*.json")):
            d = json.loads(f.read_text())
            out.append({"file": str(f), "command": d.get("command"), "rows": d.get("rows", [])})
    return out


def _run_info(run: str | None) -> tuple[str | None, int | None]:
    """:func:`feature_net_id` and seed of the run a screen row scored (the screen uses the run's own network)."""
    p = Path(run) / "metrics.json" if run else None
    if p is None or not p.is_file():
        return None, None
    try:
        m = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError):
        return None, None
    return feature_net_id(m), m.get("seed")


def prior_table(screens: list[dict], link_base: Path = Path("docs")) -> str:
    """Sample FID of trained autoencoders under each latent prior, with the bsd / bp_ann ratio per prior."""
    lines = ["| data | prior | latent spikes | bsd FID samples | bp_ann FID samples | bsd / bp_ann | seed | "
             "FID network | bsd grid | bp_ann grid |", "|---|---|---|---|---|---|---|---|---|---|"]
    cmds = []
    for sc in screens:
        rows = [{"sampling": "bernoulli", **r} for r in sc["rows"]]
        fid = {(r["data"], r["prior"], r["sampling"], r["rule"]): r["fid_samples"] for r in rows}
        info = {(r["data"], r["prior"], r["sampling"], r["rule"]): _run_info(r.get("run")) for r in rows}
        keys = list(dict.fromkeys((r["data"], r["prior"], r["sampling"]) for r in rows))
        for data, prior, sampling in keys:
            b, a = fid.get((data, prior, sampling, "bsd")), fid.get((data, prior, sampling, "bp_ann"))
            tag = prior.replace(":", "") + ("" if sampling == "bernoulli" else f"_{sampling}")
            cells = []
            for rule in ("bsd", "bp_ann"):
                sd = info.get((data, prior, sampling, rule), (None, None))[1]
                g = Path(sc["file"]).parent / "grids" / f"{data}_{rule}_{tag}{f'_seed{sd}' if sd else ''}.png"
                cells.append(f"[png]({os.path.relpath(g, link_base)})" if g.is_file() else "-")
            got = [info[k] for rule in ("bsd", "bp_ann") if (k := (data, prior, sampling, rule)) in info]
            net = " / ".join(dict.fromkeys(n for n, _ in got if n))
            seed = " / ".join(dict.fromkeys(str(sd) for _, sd in got if sd is not None))
            lines.append(f"| {DATASET_NAMES.get(data, data)} | {prior} | {sampling} | {f'{b:.1f}' if b else '-'} | "
                         f"{f'{a:.1f}' if a else '-'} | {f'{b / a:.2f}' if a and b else '-'} | {seed or '-'} | "
                         f"{net or '-'} | "
                         f"{cells[0]} | {cells[1]} |")
        if sc.get("command"):
            cmds.append(f"`{sc['command']}`")
    return "\n".join(lines) + ("\n\nCommand: " + "; ".join(cmds) if cmds else "")


def grids(runs: list[dict], link_base: Path = Path("docs")) -> str:
    """Inline final grids of the main autoencoder runs (originals / reconstructions / samples)."""
    out = []
    for m in sorted(runs, key=lambda r: (r.get("experiment", ""), RULE_ORDER.index(r["rule"])
                                         if r["rule"] in RULE_ORDER else 9, r.get("seed") or 0)):
        g = Path(m["_dir"]) / "grids" / "final.png"
        if m.get("experiment", "").endswith("_ae") and not m.get("variant") and g.is_file():
            out.append(f"`{m['experiment']}` / `{m['rule']}`, seed {m.get('seed')}:\n\n"
                       f"![{m['experiment']} {m['rule']}]({os.path.relpath(g, link_base)})\n")
    return "\n".join(out)


def samples(runs: list[dict]) -> str:
    """The text each main text run generated after training (prompt included)."""
    out = []
    for m in sorted(runs, key=lambda r: (r.get("experiment", ""), RULE_ORDER.index(r["rule"])
                                         if r["rule"] in RULE_ORDER else 9, r.get("seed") or 0)):
        smp = m.get("sample")
        if smp and not m.get("variant"):
            out += [f"`{m['rule']}`, seed {m.get('seed')}, temperature {smp.get('temperature')}:", "",
                    "```text", smp["prompt"] + smp["text"], "```", ""]
    return "\n".join(out)


def best_val(m: dict) -> float | None:
    """The best value of a run's monitored validation metric (`best_val_acc` in runs before 2026-12-02)."""
    return (m.get("best_val") or {}).get("value", m.get("best_val_acc"))


def variant_table(runs: list[dict]) -> str:
    """Ablations: one row per (experiment, variant, rule) with its command.

    Classification and text rows show accuracy (%), forecasting rows the normalised MSE.
    """
    var = [m for m in runs if m.get("variant")]
    shapes = shapes_by_experiment(runs)
    groups = variant_groups(var)
    lines = ["| experiment | variant | rule | test (acc % or MSE) | seeds | epochs | best validation (same metric) "
             "| command (one seed) |", "|" + "---|" * 8]

    def score(ms: list[dict]) -> tuple[list[float], list[float], int]:
        acc = any("test/acc" in m.get("test", {}) for m in ms)
        key, scale, digits = ("test/acc", 100.0, 2) if acc else ("test/mse", 1.0, 5)
        vals = [x for m in ms if (x := _metric(m, key, scale)) is not None]
        best = [scale * b for m in ms if (b := best_val(m)) is not None]
        return vals, best, digits

    def order(kv) -> tuple:
        vals, _, digits = score(kv[1])
        mean = statistics.mean(vals) if vals else 0.0
        return kv[0][0], -mean if digits == 2 else mean

    for (exp, variant, rule), ms in sorted(groups.items(), key=order):
        vals, best, digits = score(ms)
        lines.append(f"| {exp} | {variant} | {rule} | {_fmt(vals, digits)} | {len(vals)} | "
                     f"{'/'.join(map(str, sorted({m.get('epochs') for m in ms})))} | {_fmt(best, digits)} | "
                     f"`{pinned_command(ms[0], shapes)}` |")
    return "\n".join(lines)


def weight_average_table(runs: list[dict]) -> str:
    """Weight averaging paired within each run: the average's test accuracy against its own raw weights.

    ``test_raw/acc`` tests the raw weights of the same checkpoint; one row per run and a mean row per
    setting (empty string if no run has both).
    """
    rows = [m for m in runs if {"test/acc", "test_raw/acc"} <= set(m.get("test") or {})]
    if not rows:
        return ""
    lines = ["| experiment | setting | seed | epochs | test acc %, average | test acc %, raw weights | average - raw "
             "(points) | command |", "|" + "---|" * 8]
    by_setting: dict = defaultdict(list)
    for m in sorted(rows, key=lambda m: m.get("seed", 0)):
        by_setting[(m["experiment"], m.get("variant") or m.get("_reco") or "-")].append(m)
    for (exp, setting), ms in sorted(by_setting.items()):
        avg, raw = ([100.0 * m["test"][k] for m in ms] for k in ("test/acc", "test_raw/acc"))
        for m, a, r in zip(ms, avg, raw, strict=True):
            lines.append(f"| {exp} | {setting} | {m.get('seed')} | {m.get('epochs')} | {a:.2f} | {r:.2f} "
                         f"| {a - r:+.2f} | `{m.get('command', '')}` |")
        if len(ms) > 1:
            lines.append(f"| {exp} | {setting} | mean of {len(ms)} | | {_mean_std(avg)} | {_mean_std(raw)} | "
                         f"{statistics.mean(a - r for a, r in zip(avg, raw, strict=True)):+.2f} | |")
    return "\n".join(lines)


def time_to_target_table(runs: list[dict]) -> str:
    """Time to accuracy: one row per run that recorded ``time_to_target`` (empty string if none)."""
    rows = [m for m in runs if m.get("time_to_target")]
    if not rows:
        return ""
    lines = ["| experiment | rule | device | target | reached | training time to target (s) | epoch, step reached "
             "| best validation | test acc % | epochs | command |", "|" + "---|" * 11]
    for m in sorted(rows, key=lambda m: (m["experiment"], m["rule"], m.get("seed", 0))):
        r = m["time_to_target"]
        pct = 100.0 if r["metric"].endswith("acc") else 1.0
        reached = "yes" if r["reached"] else "no"
        t = f"{r['train_time_s']:.0f}" if r["reached"] else f"- (trained {sum(m.get('epoch_times_s') or [0]):.0f} s)"
        at = f"{r['epoch']}, {r['step']}" if r["reached"] else "-"
        test = _metric(m, "test/acc", 100.0)
        lines.append(f"| {m['experiment']} | {m['rule']} | {m.get('device', '?')} | {r['metric']} >= "
                     f"{pct * r['target']:g}{' %' if pct == 100.0 else ''} | {reached} | {t} | {at} | "
                     f"{pct * r.get('best', float('nan')):.2f} | {'-' if test is None else f'{test:.2f}'} | "
                     f"{m.get('epochs')} | `{m.get('command', '')}` |")
    return "\n".join(lines)


def curves_table(unfinished: list[dict]) -> str:
    """Validation accuracy by epoch of runs that stopped before their test (e.g. at a session deadline)."""
    lines = ["| experiment | architecture | rule | variant | seed | epochs done / planned | val acc % by epoch "
             "| best |", "|" + "---|" * 8]
    for u in sorted(unfinished, key=lambda u: (u["experiment"] or "", u["variant"] or "", u["rule"] or "",
                                               u["seed"] or 0)):
        c = u["curve"]
        lines.append(f"| {u['experiment']} | {u['_arch']} | {u['rule']} | {u['variant'] or '-'} | {u['seed']} | "
                     f"{len(c)} / {u['planned']} | {' '.join(f'{x:.1f}' for x in c)} | {max(c):.2f} |")
    return "\n".join(lines)


def commands(runs: list[dict]) -> str:
    """The command of one run per (experiment, architecture, rule) group, to reproduce each row.

    Where an experiment has runs of more than one shape (a default that changed keeps its earlier
    rows), each row names its architecture and its command gets the overrides that pin its shape.
    """
    main = [m for m in runs if is_main(m)]
    by_seed: dict = defaultdict(dict)
    for m in sorted(main, key=lambda r: r["_dir"]):  # the newest run of each seed, as the tables keep (group)
        c = m.get("_reco", "")
        if m.get("experiment", "").endswith("_ae"):  # autoencoder rows: one per prior and FID network as well
            c = f"{m.get('_prior', 'gaussian on rate')}, FID network {feature_net_id(m)}"
        by_seed[(m["experiment"], m["_arch"], m["rule"], c)][m.get("seed")] = m
    seen = {k: v[min(v, key=lambda s: (s is None, s or 0))] for k, v in by_seed.items()}
    seeds = {k: set(v) for k, v in by_seed.items()}
    shapes = shapes_by_experiment(runs)
    return "\n".join(
        f"- {e} / {r}{f' ({a})' if len(shapes[e]) > 1 else ''}"
        f"{(f' ({c})' if e.endswith('_ae') else f' (ReCo on {c})') if c else ''} "
        f"(seeds {sorted(seeds[(e, a, r, c)])}): `{pinned_command(m, shapes)}`"
        for (e, a, r, c), m in sorted(seen.items()))


def render(runs: list[dict], sources: list[str], unfinished: list[dict] | None = None,
           link_base: Path = Path("docs"), prior_screens: list[dict] | None = None) -> str:
    """The whole results page (image links relative to ``link_base``, the page's folder)."""
    parts = [
        "# Results",
        "",
        "Generated by `python -m bsd.report " + " ".join(sources) + " --out docs/results.md` from the runs' "
        "`metrics.json`; do not edit by hand. Accuracy is on the official test split, evaluated with the "
        "checkpoint of best validation accuracy (validation: 5,000 images carved from the training set with "
        "the run's seed). `s / epoch` is the wall time of one training epoch plus its validation pass on the "
        "device named in the row; the GPU rows come from `scripts/gpu_results.sh`, which trains many runs at "
        "once on one GPU, so their times measure a shared GPU, not one run alone. Paper numbers are cited "
        "from Lv et al. (2026) for reference only.",
        "",
        "## Image classification",
        "",
        classification_table(runs),
        "",
        "Commands (one per row; change `seed=` for the other seeds):",
        "",
        commands(runs),
    ]
    if text := text_table(runs):
        parts += ["", "## Next-character prediction (`text_char`, Shakespeare)", "",
                  "Accuracy and bits per character over the test span (5 % of the complete works, the last "
                  "contiguous span), read as `data.eval_streams` contiguous streams with the state carried from "
                  "one chunk of `data.seq_len` characters to the next (training sequences start from rest). "
                  "`batches / epoch` below `all` means the run saw only that many training batches. "
                  "The count models predict the most frequent next character after the previous "
                  "n - 1 characters, counted on the same training span (backing off to shorter contexts). Paper, "
                  "for reference only (Harry Potter corpus): BSD 41.8 %, predictive coding 38.8 %, DLL 33.7 %. "
                  "The architecture ends with the batch size (`b64`). CPU rows come from "
                  "`scripts/text_results.sh` (rnn 1024, T = 1, batch 64: today's default; its batch-128 rows were "
                  "the default of the morning of 2026-11-29) and `scripts/seq_results.sh` (rnn 512, T = 4: the "
                  "default until 2026-11-29): one thread per run, two "
                  "runs side by side on the 2-core machine, so `s / epoch` is an upper bound for one run alone.",
                  "", text, ""]
        if smp := samples([m for m in runs if m.get("experiment") == "text_char"]):
            parts += ["Generated after training from the prompt (forward net only):", "", smp]
    if fc := forecast_table(runs):
        parts += ["", "## Electricity demand forecasting (`timeseries_elec`)", "",
                  "Next half-hour demand in Victoria from one day (48 steps) of demand, temperature, holiday and "
                  "calendar features; chronological 70 / 10 / 20 split, normalisation fitted on the training span. "
                  "MSE on the normalised target; MAE and RMSE in MW; all over the forecasts after every complete "
                  "window of the test span. Architectures ending in `lags48` saw the day's demand at every step "
                  "(`data.lags`); `change`: the models output the change from the last observed value and "
                  "are scored on the level it gives (`data.predict=change`); `residual`: they output what a "
                  "least-squares linear map of the input step (fitted on the training span) misses, scored on "
                  "the level that map plus the output gives (`data.predict=residual`); `residual48`: one map "
                  "per half-hour (`data.residual_parts=48`), `r0.0003` its slopes shrunk towards the all-day map "
                  "(`data.residual_ridge`), `d7` one map per half-hour and day of the week (`data.residual_days=7`), "
                  "`s0.003` neighbouring maps tied (`data.residual_smooth`; the default since 2026-12-05). The "
                  "floors are computed by the same code on the same forecasts. "
                  "Paper, for reference only (METR-LA): BSD MSE 0.125, BP on ANN 0.131.", "", fc]
    if ttt := time_to_target_table(runs):
        parts += ["", "## Time to accuracy", "",
                  "Training time (validation passes excluded) until the validation metric first reached "
                  "`time_to_target.target`; the resolution is the run's validation interval "
                  "(`trainer.val_check_interval` in its command). The CPU rows come from "
                  "`scripts/time_to_target.sh`: both rules side by side, one thread each.", "", ttt]
    if gen := generation_table(runs, link_base):
        parts += ["", "## Image generation (`mnist_ae`, `fmnist_ae`)", "",
                  "Spiking convolutional autoencoders (T = 8; `bp_ann`: ReLU, T = 1). Test MSE: reconstructions of "
                  "the 10,000 test images (pixels in [0, 1]). FID (classifier features): Fréchet distance between "
                  "the 128 penultimate features of a BP-trained CNN classifier of the same dataset (torchmetrics' "
                  "FID with that network as a custom feature extractor), test images against the reconstructions "
                  "of the test images (FID recon) and against as many samples decoded from latents drawn from the "
                  "prior fitted to training latents (FID samples; latent prior: `model.latent_prior` on "
                  "`model.latent_space`, rates or the latent layer's input currents). FID network: the "
                  "fingerprint of the feature network that scored the row (runs before fingerprints: its test "
                  "accuracy); FIDs of different networks do not compare, and each ratio is taken against `bp_ann` "
                  "scored by the same network with the same prior. This is not the Inception FID and is not "
                  "comparable with the paper's numbers (Inception FID on MNIST: ANN-BP 49.56, FSVAE 97.06, "
                  "BSD 72.39; BSD / ANN-BP = 1.46). Each grid shows a row of test images, their reconstructions and "
                  "two rows of samples.", "", gen, "", grids(runs, link_base)]
    if prior_screens:
        parts += ["", "### Latent prior (ex-post density) of the trained autoencoders", "",
                  "The same checkpoints (best validation MSE of the runs above), sampled through each prior "
                  "(`model.latent_prior`) refitted on the same 10,000 training images: `gaussian` (the default, "
                  "spec section 5) and `gmm:K`, a mixture of K full-covariance Gaussians fitted by EM. FID "
                  "(classifier features) of 10,000 samples (seed 0) against the test images; with `gaussian` it "
                  "reproduces the table above. `encoded` is no prior: the test images' own latent rates, decoded "
                  "(what the decoder gives back when the prior is perfect). Latent spikes: how the decoder's "
                  "spike trains are drawn from latent rates (`model.latent_sampling`; `bp_ann` has none); `lif`: the "
                  "prior is fitted to the latent layer's time-mean basal voltages instead (`model.latent_space="
                  "current`) and each sample drives the latent LIF soma (ReLU for `bp_ann`) for T steps.", "",
                  prior_table(prior_screens, link_base)]
    if wa := weight_average_table(runs):
        parts += ["", "## Weight averaging, paired within each run", "",
                  "Runs with `ema.decay` test the weight average (validation, the best checkpoint and `test/acc` use "
                  "it) and, beside it, the raw weights of the same checkpoint (`test_raw/acc`); training steps the raw "
                  "weights exactly as without averaging, so the difference is free of seed noise.", "", wa]
    if any(m.get("variant") for m in runs):
        parts += ["", "## Ablations", "", "Each row is a variant of the default configuration, labelled with "
                  "`variant=NAME` on its command line.", "", variant_table(runs)]
    if unfinished:
        parts += ["", "## Runs stopped before their test", "",
                  "These runs were stopped (wall-clock limit of their session) before the test pass; their "
                  "validation accuracy after each finished epoch comes from their CSV logs. Variants change the "
                  "configuration of their own session (see its architecture column) in one way.", "",
                  curves_table(unfinished)]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("roots", nargs="*", default=["results"], help="folders searched for metrics.json")
    ap.add_argument("--out", default="docs/results.md")
    a = ap.parse_args(argv)
    runs = find_runs(a.roots)
    if not runs:
        raise SystemExit(f"error: no metrics.json found under {a.roots}; train first (python src/train.py ...)")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(render(runs, a.roots, unfinished_runs(a.roots), Path(a.out).parent,
                                  find_prior_screens(a.roots)))
    print(f"wrote {a.out} from {len(runs)} runs")


if __name__ == "__main__":
    main()
