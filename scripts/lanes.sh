# Sourced by the *_results.sh scripts: `one EXPERIMENT RULE [overrides...]` trains one run, seed 0, one
# thread, CSV logger, into $OUT/EXPERIMENT/RULE/seed0 with its log in $OUT/logs (needs OUT and PY).
one() {
  local exp=$1 rule=$2; shift 2
  $PY src/train.py +experiment="$exp" model.rule="$rule" seed=0 threads=1 logger=csv \
    trainer.enable_progress_bar=false hydra.run.dir="$OUT/$exp/$rule/seed0" "$@" > "$OUT/logs/$exp-$rule.log" 2>&1 \
    || echo "FAILED: $exp $rule (see $OUT/logs/$exp-$rule.log)"
}
