# Sourced by the *_results.sh scripts: `one EXPERIMENT RULE [overrides...]` trains one run, seed $SEED
# (default 0), one thread, CSV logger, into $OUT/EXPERIMENT/RULE/seed$SEED$SUFFIX with its log in $OUT/logs
# (needs OUT and PY; SUFFIX, e.g. _epochs14, is empty by default).
one() {
  local exp=$1 rule=$2 seed=${SEED:-0} sfx=${SUFFIX:-} tag=""; shift 2
  [ "$seed" = 0 ] || tag="-seed$seed"
  tag="$tag${sfx/#_/-}"  # logs name the suffix with a dash: ...-seed2-epochs14.log
  $PY src/train.py +experiment="$exp" model.rule="$rule" seed="$seed" threads=1 logger=csv \
    trainer.enable_progress_bar=false hydra.run.dir="$OUT/$exp/$rule/seed$seed$sfx" "$@" \
    > "$OUT/logs/$exp-$rule$tag.log" 2>&1 || echo "FAILED: $exp $rule seed $seed (see $OUT/logs/$exp-$rule$tag.log)"
}

# The forecaster's residual map until the fourth session of 2026-12-05 (one all-day map; since then one per
# half-hour and day of the week, tied): scripts whose timeseries_elec rows ran on it put these before their own
# overrides (a later override of the same key wins), so they reproduce their rows under today's default.
ALLDAY_MAP=(data.residual_parts=1 data.residual_days=1 data.residual_smooth=0)

# `picked NAME`: true when ONLY (space-separated names, env) is empty or names NAME; screens use it to run a subset.
picked() {
  [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]
}

# `variant EXPERIMENT RULE NAME [overrides...]`: one run of ablation variant NAME (variant=NAME, suffix _NAME) unless
# ONLY leaves it out; always succeeds, so a lane goes on to its next run.
variant() {
  local exp=$1 rule=$2 name=$3; shift 3
  picked "$name" && SUFFIX=_$name one "$exp" "$rule" variant="$name" "$@"
  return 0
}
