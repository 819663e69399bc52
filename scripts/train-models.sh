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
# weights (English: three, see more_en). The thread count does not change the model:
# NAPKIT_TRAIN_THREADS=1 lets two languages train side by side, one core each
# (`train-models.sh NAPKIT en & train-models.sh NAPKIT de`).
threads=${NAPKIT_TRAIN_THREADS:-2}
epochs=8 lr=1e-3 warmup=300 weights=kaiming
# English still underfits after one cycle (docs/training.md), so it trains further
# cosine cycles, each from the previous one's weights (--init, fresh Adam state):
# "EPOCHS LR [TEMPO]" per cycle (TEMPO: napkit train --tempo), separated by commas.
more_en="12 5e-4, 5 5e-4, 5 3e-4 0.1, 5 3e-4 0.1" more_de=""
arch_en=models/arch/small.json; arch_de=models/arch/small-de.json

# One cosine cycle of the language in the loop below (its lang, arch_var, train,
# model, log): train_cycle EPOCHS LR [--init MODEL]; prints how long it took.
train_cycle() {
  local start=$SECONDS
  "$napkit" --quiet train --arch "${!arch_var}" "${train[@]}" \
      --dev "corpora/out/$lang/dev" -o "$model" --checkpoint "models/$lang.ckpt" \
      --epochs "$1" --lr "$2" --warmup "$warmup" --weights "$weights" --threads "$threads" "${@:3}" |
      tee -a "$log" >&2 || return
  echo "$(( (SECONDS - start) / 60 )) minutes on $threads thread(s)"
}

for lang in "${langs[@]}"; do
  bash scripts/make-corpora.sh "$napkit" "corpora/recipes/$lang.json"
  bash scripts/real-splits.sh "$napkit" "$lang"
  train=(--train "corpora/out/$lang/train")
  for m in corpora/out/real-$lang/*-train.tsv; do [ -e "$m" ] && train+=(--train "$m"); done
  arch_var=arch_$lang more_var=more_$lang
  model=models/$lang.safetensors log=models/$lang.train.log
  : > "$log"
  recipe="Adam, peak lr $lr, $warmup warm-up steps, cosine decay to 5 %, $epochs epochs from $weights weights"
  took=$(train_cycle "$epochs" "$lr")
  IFS=, read -ra more <<< "${!more_var}"
  for cycle in "${more[@]}"; do
    read -r epochs2 lr2 tempo2 <<< "$cycle"
    recipe+="; then a cycle from those weights: peak lr $lr2, $warmup warm-up steps, $epochs2 epochs"
    [ -z "$tempo2" ] || recipe+=", tempo perturbation ±$tempo2"
    took+=", then $(train_cycle "$epochs2" "$lr2" --init "$model" ${tempo2:+--tempo "$tempo2"})"
  done
  # The card aligns phonemes: German needs its letter-phoneme model trained once
  # from text (English learns it from CMUdict by itself).
  [ "$lang" = en ] || "$napkit" --quiet lexicon --language "$lang" \
      --train-text "corpora/text/$lang.txt" Haus > /dev/null
  bash scripts/model-card.sh "$napkit" "$lang" "$took" "$log" "$recipe" > "models/$lang.md.tmp"
  mv "models/$lang.md.tmp" "models/$lang.md"
  rm -f "models/$lang.ckpt"
done
