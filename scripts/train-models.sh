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

# The recipe of the shipped models (see models/*.md for what it gave).
epochs_en=30; epochs_de=25
arch_en=models/arch/small.json; arch_de=models/arch/small-de.json
# Real recordings evaluated on (not trained on), where ../shared/corpora has them.
real_en=("$shared/en/librispeech-dev-clean-mp3/LibriSpeech/dev-clean" "$shared/en/kathleen")
real_de=("$shared/de/kerstin" "$shared/de/commonvoice-sample")

for lang in "${langs[@]}"; do
  bash scripts/make-corpora.sh "$napkit" "corpora/recipes/$lang.json"
  epochs_var=epochs_$lang; arch_var=arch_$lang
  log=models/$lang.train.log
  start=$(date +%s)
  "$napkit" --quiet train --arch "${!arch_var}" --train "corpora/out/$lang/train" \
      --dev "corpora/out/$lang/dev" -o "models/$lang.safetensors" \
      --checkpoint "models/$lang.ckpt" --epochs "${!epochs_var}" --threads 2 | tee "$log"
  minutes=$(( ($(date +%s) - start) / 60 ))
  # The card aligns phonemes: German needs its letter-phoneme model trained once
  # from text (English learns it from CMUdict by itself).
  [ "$lang" = en ] || "$napkit" --quiet lexicon --language "$lang" \
      --train-text "corpora/text/$lang.txt" Haus > /dev/null
  real_var="real_$lang[@]"
  bash scripts/model-card.sh "$napkit" "$lang" "$minutes" "$log" "${!real_var}" > "models/$lang.md.tmp"
  mv "models/$lang.md.tmp" "models/$lang.md"
  rm -f "models/$lang.ckpt"
done
