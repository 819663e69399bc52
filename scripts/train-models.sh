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
# dev/test sentences (scripts/real-splits.sh). Two threads or one give the same
# model; the shipped ones were trained side by side on one thread each.
epochs_en=9; epochs_de=9
# Then a second, shorter cosine cycle from the trained weights at a lower peak
# rate: the first cycle ends still underfitting (training loss falling).
polish_epochs=3; polish_lr=2e-4
arch_en=models/arch/small.json; arch_de=models/arch/small-de.json

for lang in "${langs[@]}"; do
  bash scripts/make-corpora.sh "$napkit" "corpora/recipes/$lang.json"
  bash scripts/real-splits.sh "$napkit" "$lang"
  train=(--train "corpora/out/$lang/train")
  for m in corpora/out/real-$lang/*-train.tsv; do [ -e "$m" ] && train+=(--train "$m"); done
  epochs_var=epochs_$lang; arch_var=arch_$lang
  log=models/$lang.train.log
  start=$(date +%s)
  "$napkit" --quiet train --arch "${!arch_var}" "${train[@]}" \
      --dev "corpora/out/$lang/dev" -o "models/$lang.safetensors" \
      --checkpoint "models/$lang.ckpt" --epochs "${!epochs_var}" --threads 2 | tee "$log"
  "$napkit" --quiet train --arch "${!arch_var}" "${train[@]}" --init "models/$lang.safetensors" \
      --dev "corpora/out/$lang/dev" -o "models/$lang.safetensors" --checkpoint "models/$lang.polish.ckpt" \
      --epochs "$polish_epochs" --lr "$polish_lr" --warmup 100 --threads 2 | tee -a "$log"
  minutes=$(( ($(date +%s) - start) / 60 ))
  # The card aligns phonemes: German needs its letter-phoneme model trained once
  # from text (English learns it from CMUdict by itself).
  [ "$lang" = en ] || "$napkit" --quiet lexicon --language "$lang" \
      --train-text "corpora/text/$lang.txt" Haus > /dev/null
  bash scripts/model-card.sh "$napkit" "$lang" "$minutes" "$log" > "models/$lang.md.tmp"
  mv "models/$lang.md.tmp" "models/$lang.md"
  rm -f "models/$lang.ckpt" "models/$lang.polish.ckpt"
done
