#!/usr/bin/env bash
# Writes a model card (markdown) to stdout from a trained model, its training
# log and evaluations on held-out synthetic speakers and real recordings.
# Usage: model-card.sh NAPKIT LANG TRAIN_MINUTES TRAIN_LOG [REAL_CORPUS...]
set -euo pipefail
napkit=$1 lang=$2 minutes=$3 log=$4
shift 4
real=("$@")
model=models/$lang.safetensors
evaluate() { "$napkit" --quiet eval --model "$model" --threads 2 "$@" 2>/dev/null | tail -n 1; }
work=$(mktemp -d /tmp/napkit-card.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Phoneme onsets against the synthesizer's truth; prints the "all" line.
onsets() {
  local set=$1; shift
  "$napkit" --quiet align --model "$model" --language "$lang" --threads 2 "$@" \
      --reference "corpora/out/$lang/$set" "corpora/out/$lang/$set" -o "$work/$set" 2>/dev/null |
      awk '$1 == "all"'
}

echo "# models/$lang.safetensors"
echo
echo "A small Wav2Letter-shaped CTC model ($lang), trained by \`napkit train\` with the recipe in"
echo "\`scripts/train-models.sh\` (\`make models\` retrains it from scratch)."
echo
echo "## Architecture"
echo
echo '```'
"$napkit" model info "$model"
echo '```'
echo
echo "## Training"
echo
echo "- data: \`corpora/out/$lang/train\` (espeak-ng synthetic, recipe \`corpora/recipes/$lang.json\`):"
echo "  $("$napkit" corpus info --lang "$lang" "corpora/out/$lang/train" | awk '/^utterances|^speakers|^hours/{printf "%s %s; ", $1, $2}')"
echo "- optimizer: Adam, peak lr 1e-3, 300 warm-up steps, cosine decay to 5%, gradient-norm clip 5,"
echo "  60 s of audio per batch, SpecAugment (2 time masks ≤ 20 frames, 2 band masks ≤ 6), seed 1"
echo "- $(grep -c '^epoch' "$log") epochs in $minutes minutes on 2 cores; last epoch:"
echo "  \`$(grep '^epoch' "$log" | tail -n 1)\`"
echo
echo "## Results (greedy decoding, no language model)"
echo
echo "| test set | result |"
echo "|---|---|"
echo "| synthetic dev (held-out speakers and sentences) | $(evaluate "corpora/out/$lang/dev") |"
echo "| synthetic test (held-out speakers and sentences) | $(evaluate "corpora/out/$lang/test") |"
for r in "${real[@]}"; do
  if [ -e "$r" ]; then
    echo "| real: \`${r#../shared/corpora/}\` (first 300) | $(evaluate --max-utterances 300 "$r") |"
  fi
done
echo
echo "Real recordings were not used for training; they show how far a model trained on"
echo "synthetic speech carries over to human voices."
echo
echo "## Alignment"
echo
train_line=$(onsets train)
delay_ms=$(awk '{print $1 + 0}' <<< "${train_line##*median err}")
echo "CTC spikes come late: the median onset error on the training speakers is $delay_ms ms"
echo "(\`napkit align --reference\`). Subtracting it (\`--delay-from\` that run's quality.json,"
echo "or \`--delay $(awk -v d="$delay_ms" 'BEGIN{printf "%.3f", d / 1000}')\`), phoneme onsets on held-out speakers:"
echo
echo '```'
for set in dev test; do
  echo "$set: $(onsets "$set" --delay-from "$work/train/quality.json" | sed 's/^ *all *//')"
done
echo '```'
