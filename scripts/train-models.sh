#!/usr/bin/env bash
# Retrains the shipped models from scratch with the recorded recipe and writes
# their model cards: models/{en,de}.safetensors and models/{en,de}.md.
# Usage: train-models.sh NAPKIT [en|de ...]   (both by default; hours on 2 cores)
set -euo pipefail
napkit=${1:?usage: train-models.sh NAPKIT [en|de ...]}
shift
cd "$(dirname "$0")/.."
langs=("$@")
[ ${#langs[@]} -gt 0 ] || langs=(en de)
shared=../shared/corpora
export OPENBLAS_NUM_THREADS=1

# The recipe of the shipped models (see models/*.md for what it gave): the
# synthetic corpus plus the real recordings whose sentences are not synthetic
# dev/test sentences (scripts/real-splits.sh); one cosine cycle from Kaiming
# weights. The thread count does not change the model:
# NAPKIT_TRAIN_THREADS=1 lets two languages train side by side, one core each
# (how the shipped ones were made: `train-models.sh NAPKIT en & train-models.sh NAPKIT de`).
threads=${NAPKIT_TRAIN_THREADS:-2}
epochs=8 lr=1e-3 warmup=300 weights=kaiming
arch_en=models/arch/small.json; arch_de=models/arch/small-de.json
recipe="Adam, peak lr $lr, $warmup warm-up steps, cosine decay to 5 %, $epochs epochs from $weights weights"

for lang in "${langs[@]}"; do
  bash scripts/make-corpora.sh "$napkit" "corpora/recipes/$lang.json"
  bash scripts/real-splits.sh "$napkit" "$lang"
  train=(--train "corpora/out/$lang/train")
  for m in corpora/out/real-$lang/*-train.tsv; do [ -e "$m" ] && train+=(--train "$m"); done
  arch_var=arch_$lang
  log=models/$lang.train.log
  start=$(date +%s)
  "$napkit" --quiet train --arch "${!arch_var}" "${train[@]}" \
      --dev "corpora/out/$lang/dev" -o "models/$lang.safetensors" --checkpoint "models/$lang.ckpt" \
      --epochs "$epochs" --lr "$lr" --warmup "$warmup" --weights "$weights" --threads "$threads" | tee "$log"
  minutes=$(( ($(date +%s) - start) / 60 ))
  # The card aligns phonemes: German needs its letter-phoneme model trained once
  # from text (English learns it from CMUdict by itself).
  [ "$lang" = en ] || "$napkit" --quiet lexicon --language "$lang" \
      --train-text "corpora/text/$lang.txt" Haus > /dev/null
  bash scripts/model-card.sh "$napkit" "$lang" "$minutes" "$log" "$recipe" "$threads" > "models/$lang.md.tmp"
  mv "models/$lang.md.tmp" "models/$lang.md"
  rm -f "models/$lang.ckpt"
done
