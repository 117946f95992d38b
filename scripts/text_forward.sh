#!/usr/bin/env bash
# text_char around the 2026-12-05 default (ReCo along each layer's own forward simulation through the whole
# sequence, model.reco.time_path=forward): bp_snn on seeds 1 and 2 of the same network (seed 0 ran on 2026-11-29:
# results/cpu-2026-11-29-textb64), so the gap is read against three seeds, and bsd with the push weight lambda at
# 0.1 and 0.2 (variants fwd_lam0.1, fwd_lam0.2; the default 0.05 was chosen on voltages, before centred rates).
# Two lanes side by side, one thread per run, one epoch as the default, into results/cpu-2026-12-05-textfwd.
# Seeds 1 and 2 of a bsd row: SEED=S ONLY=fwd_lam0.2 bash scripts/text_forward.sh (lambda 0.2 became the default,
# 2026-12-05, then lambda 0.4 in the second session that day; both stand in results.md's main table, as variants
# fwd_lam0.2 and fwd_lam0.4).
# lambda 0.4 and 0.8 (fwd_lam0.4, fwd_lam0.8; 2026-12-05, second session) run in lanes of their own: name them in ONLY.
# Usage: [ONLY="bpsnn1 bpsnn2 fwd_lam0.1 fwd_lam0.2 fwd_lam0.4 fwd_lam0.8"] [SEED=S] bash scripts/text_forward.sh [OUT]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
source scripts/lanes.sh
OUT=${1:-results/cpu-2026-12-05-textfwd}
mkdir -p "$OUT/logs"
(picked bpsnn1 && SEED=1 one text_char bp_snn
 picked fwd_lam0.1 && SUFFIX=_fwd_lam0.1 one text_char bsd variant=fwd_lam0.1 model.reco.lam=0.1) &
(picked bpsnn2 && SEED=2 one text_char bp_snn
 picked fwd_lam0.2 && SUFFIX=_fwd_lam0.2 one text_char bsd variant=fwd_lam0.2 model.reco.lam=0.2) &
(picked fwd_lam0.4 && SUFFIX=_fwd_lam0.4 one text_char bsd variant=fwd_lam0.4 model.reco.lam=0.4) &
(picked fwd_lam0.8 && SUFFIX=_fwd_lam0.8 one text_char bsd variant=fwd_lam0.8 model.reco.lam=0.8) &
wait
