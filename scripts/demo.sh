#!/usr/bin/env bash
# The main job on the bundled data, as one `napkit report`: synthesize the
# English and German mini corpora, then for the English and the German model
# transcribe (CER/WER), force-align (onsets against the synthesizer's truth),
# compute GradNAPs of every layer per phoneme, cluster them against the
# phonetic classes, draw dendrograms, heatmaps and ERP curves of the most
# selective units, attribution maps and top-activating snippets, and compare
# the two networks layer by layer — one HTML page, report.json beside it.
# Usage: demo.sh NAPKIT   (outputs in $DEMO_OUT, default build/demo; models
# $DEMO_MODEL_EN and $DEMO_MODEL_DE, default models/{en,de}.safetensors)
set -euo pipefail
napkit=${1:-build/napkit}
out=${DEMO_OUT:-build/demo}
en=${DEMO_MODEL_EN:-models/en.safetensors}
de=${DEMO_MODEL_DE:-models/de.safetensors}
# Onset delays: each model's own, stored in its file (napkit model set-delay;
# models/en.md, models/de.md); DEMO_DELAY_EN / DEMO_DELAY_DE (seconds) override.
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*"; }
start=$(date +%s)

for m in "$en" "$de"; do
  if [ ! -f "$m" ]; then
    echo "demo: $m is missing (make models trains it; DEMO_MODEL_EN/DEMO_MODEL_DE point elsewhere)" >&2
    exit 1
  fi
done

step "synthesizing the mini corpora (espeak-ng)"
bash scripts/make-corpora.sh "$napkit" corpora/recipes/mini-en.json corpora/recipes/mini-de.json

step "German letter-phoneme model (trained once from the sentence list, then cached; English trains itself)"
cache=${NAPKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/napkit}
if [ -f "$cache/letter_phone_de.json" ]; then "$napkit" lexicon --language de Haus
else "$napkit" lexicon --language de --train-text corpora/text/de.txt Haus; fi

step "napkit report: English and German models on their mini corpora"
mkdir -p "$out"
rm -rf "$out/report"
"$napkit" report --model "$en" --name en --language en ${DEMO_DELAY_EN:+--delay "$DEMO_DELAY_EN"} \
    corpora/out/mini-en --model-b "$de" --name-b de --language-b de \
    ${DEMO_DELAY_DE:+--delay-b "$DEMO_DELAY_DE"} --corpus-b corpora/out/mini-de \
    --threads 2 -o "$out/report"   # stderr stays the terminal: progress lines

step "done in $(( $(date +%s) - start )) s (after the build)"
echo "open $out/report/index.html in a browser (numbers: $out/report/report.json)"
echo "check it in headless Chromium: make check-report REPORT=$out/report"
