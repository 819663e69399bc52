#!/usr/bin/env bash
# Writes a model card (markdown) to stdout from a trained model, its training
# log and evaluations on held-out synthetic speakers and real recordings (the
# splits of scripts/real-splits.sh under corpora/out/real-LANG).
# Usage: model-card.sh NAPKIT LANG TRAIN_TIME TRAIN_LOG RECIPE
# (TRAIN_TIME: how long it trained, e.g. "99 minutes on 1 thread(s)"; RECIPE: one
# line on the optimizer and schedule)
set -euo pipefail
napkit=$1 lang=$2 took=$3 log=$4 recipe=$5
model=models/$lang.safetensors
real=corpora/out/real-$lang
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

# The onset delay, measured on training speakers and stored in the model
# (napkit align and report subtract it), then checked on held-out speakers.
onsets train --max-utterances 400 > /dev/null
"$napkit" --quiet model set-delay "$model" --from "$work/train/quality.json" > /dev/null
delay_ms=$("$napkit" model info "$model" | awk '/^onset delay/ {print $3}')

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
echo "- data (\`scripts/train-models.sh\`):"
info() { "$napkit" corpus info --lang "$lang" "$1" | awk '/^utterances|^hours/ {s = s (s ? ", " : "") $2 " " $1} END {print s}'; }
echo "  - \`corpora/out/$lang/train\`, espeak-ng synthetic (recipe \`corpora/recipes/$lang.json\`): $(info "corpora/out/$lang/train")"
for m in "$real"/*-train.tsv; do
  [ -e "$m" ] && echo "  - real: \`${m#corpora/out/}\`: $(info "$m")"
done
echo "- optimizer: $recipe; gradient-norm clip 5, 60 s of audio per batch, SpecAugment"
echo "  (2 time masks ≤ 20 frames, 2 band masks ≤ 6), seed 1"
echo "- $(grep -c '^epoch' "$log") epochs, $took; last epoch:"
echo "  \`$(grep '^epoch' "$log" | tail -n 1)\`"
echo "- dev CER after each epoch (%, a semicolon between cosine cycles): $(awk '/^epoch/ {
    if ($2 ~ /^1\//) { printf "%s", (n ? "; " : ""); n = 0 }
    for (i = 1; i < NF; i++) if ($i == "CER") printf "%s%s", (n++ ? ", " : ""), $(i + 1)
  } END {print ""}' "$log" | tr -d '%')"
echo "- how the recipe was chosen, and what the earlier models reached: \`docs/training.md\`"
echo
describe() {
  case $1 in
    *-heldout.tsv) echo "sentences never trained on (synthetic dev/test sentences), speaker heard in training" ;;
    *-speakers.tsv) echo "speakers never trained on" ;;
    *-all.tsv) echo "not trained on (its sentences may be among the synthetic training sentences)" ;;
  esac
}
# The results table: synthetic dev and test, then the real test sets, each
# scored by the command RUN (evaluate, or decoded below) with the set appended.
results() {
  local run=$1 m
  echo "| test set | result |"
  echo "|---|---|"
  echo "| synthetic dev (held-out speakers and sentences) | $($run "corpora/out/$lang/dev") |"
  echo "| synthetic test (held-out speakers and sentences) | $($run "corpora/out/$lang/test") |"
  for m in "$real"/*-heldout.tsv "$real"/*-speakers.tsv "$real"/*-all.tsv; do
    if [ -e "$m" ]; then echo "| real: \`${m#corpora/out/}\`: $(describe "$m") | $($run "$m") |"; fi
  done
}
echo "## Results (greedy decoding, no language model)"
echo
results evaluate
echo
echo "Each held-out synthetic speaker (\`corpora/out/$lang/SPEAKERS.TXT\`):"
echo
echo "| speaker | set | voice+variant | words/min | pitch | CER | WER |"
echo "|---|---|---|---|---|---|---|"
for set in dev test; do
  for dir in "corpora/out/$lang/$set"/*/; do
    id=$(basename "$dir")
    voice=$(awk -F'|' -v id="$id" '$1 + 0 == id {gsub(/ /, ""); print $3 " | " $4 " | " $5}' "corpora/out/$lang/SPEAKERS.TXT")
    score=$(evaluate "$dir" | awk '{for (i = 1; i < NF; i++) if ($i == "CER" || $i == "WER") s = s " | " $(i + 1)} END {print s}')
    echo "| $id | $set | $voice$score |"
  done
done

# Beam search with a character LM trained on the training split's transcripts
# only; its weight and bonus are picked on synthetic dev, then applied to the rest.
lm=$work/$lang.lm
"$napkit" --quiet lm --model "$model" --order 8 "corpora/out/$lang/train" -o "$lm" > /dev/null
best=""
for weight in 0.5 0.8 1.2; do
  for bonus in 0 0.5 1 1.5; do
    cer=$(evaluate "corpora/out/$lang/dev" --lm "$lm" --lm-weight $weight --bonus $bonus | awk '{for (i = 1; i < NF; i++) if ($i == "CER") print $(i + 1) + 0}')
    best=$(printf '%s\n%s %s %s\n' "$best" "$cer" "$weight" "$bonus" | awk 'NF' | sort -g -k1,1 -s | head -n 1)
  done
done
read -r _ weight bonus <<< "$best"
decoded() { evaluate "$@" --lm "$lm" --lm-weight "$weight" --bonus "$bonus" | sed 's/  decoding .*//'; }
echo
echo "## Results with a character language model (beam search)"
echo
echo "An order-8 character LM (\`napkit lm --model models/$lang.safetensors --order 8"
echo "corpora/out/$lang/train\`: the synthetic training transcripts only), beam 16; LM weight $weight and"
echo "bonus $bonus per character, the best on synthetic dev of weights 0.5, 0.8, 1.2 × bonuses 0, 0.5, 1,"
echo "1.5, so the dev row is the one they were tuned on (\`docs/decoding.md\`):"
echo
results decoded
echo
echo "## Alignment"
echo
echo "CTC spikes come late: the median onset error on the training speakers (\`napkit align"
echo "--reference\`, first 400 utterances) is $delay_ms ms. The model file stores it (\`napkit model"
echo "set-delay\`), and \`napkit align\` and \`napkit report\` subtract it; phoneme onsets on held-out speakers:"
echo
echo '```'
for set in dev test; do
  echo "$set: $(onsets "$set" | sed 's/^ *all *//')"
done
echo '```'
