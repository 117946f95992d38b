"""Training-step benchmark: step time and peak memory of every image rule on one backbone, against bp_snn.

Memory is measured with each configuration in its own subprocess (so peak resident memory is its
own); step times come from one process per (arch, depth, T) that steps all rules in turns, so a noisy
machine slows them alike. Real MNIST batches; the table prints ratios against ``bp_snn``. Per row:
the median step time, the peak of the memory autograd graphs hold for backward during one whole step
(:class:`~bsd.compact.SavedPeak`: with ``model.backward=layer`` each layer's graph is freed before the
next is built, so the peak is far below the sum over the step) and the peak process memory (CUDA:
allocated during the step above the model). ``--profile`` prints instead where each rule's step time
goes (torch.profiler: phases, operator and backward counts, top operators)::

    python -m bsd.bench                          # MLP 784-256x5-10, T = 4, 8, 16, batch 128, CPU
    python -m bsd.bench --arch mlp cnn --T 4 --steps 10 --out docs/performance.md
    python -m bsd.bench --rules bsd bsd_voltage bp_snn --T 4   # today's ReCo on rates against the paper's voltages
    python -m bsd.bench --rules bsd bsd_stepwise bp_snn bp_snn_stepwise  # fused LIF graph vs autograd per step
    python -m bsd.bench --rules bsd bp_snn bp_ann fa dfa pc dll rstdp --T 4   # the paper's comparison rules
    python -m bsd.bench --rules bsd bsd_joint bp_snn --depths 6 24 --T 4 16 --json out.json  # depth, T
    python -m bsd.bench --rules bsd bsd_joint bp_snn --depths 6 --T 4 --threads 1 --profile  # where time goes

Modules: :mod:`.steps` (the configurations and their training step), :mod:`.timing` (workers, timing in
turns), :mod:`.profile` (``--profile``), :mod:`.cli` (options, checks, tables).
"""

from __future__ import annotations

from .cli import JSON_FIELDS, check_request, json_rows, main, table
from .steps import COMPARISON, KNOWN, PEERS, RULES, VARIANTS, build_step, make_step, mlp_widths
from .timing import _run_worker, interleaved_times, run_all, worker

__all__ = ["COMPARISON", "JSON_FIELDS", "KNOWN", "PEERS", "RULES", "VARIANTS", "_run_worker", "build_step",
           "check_request", "interleaved_times", "json_rows", "main", "make_step", "mlp_widths", "run_all", "table",
           "worker"]
