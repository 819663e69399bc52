#!/usr/bin/env bash
# The main job on the bundled data: synthesize the English and German mini
# corpora, then for each shipped model transcribe (CER/WER), force-align
# (onset accuracy against the synthesizer's truth), compute GradNAPs of every
# layer per phoneme, cluster them, draw dendrograms, heatmaps and ERP curves,
# an attribution map, and compare the two networks layer by layer.
# (The report issue turns this into one `napkit report` with an HTML page.)
# Usage: demo.sh NAPKIT   (outputs in $DEMO_OUT, default build/demo)
set -euo pipefail
napkit=${1:-build/napkit}
out=${DEMO_OUT:-build/demo}
cd "$(dirname "$0")/.."
threads=2
step() { printf '\n== %s\n' "$*"; }

for lang in en de; do
  if [ ! -f "models/$lang.safetensors" ]; then
    echo "demo: models/$lang.safetensors is missing (make models trains it)" >&2
    exit 1
  fi
done

step "synthesizing the mini corpora (espeak-ng)"
bash scripts/make-corpora.sh "$napkit" corpora/recipes/mini-en.json corpora/recipes/mini-de.json
mkdir -p "$out"

for lang in en de; do
  model=models/$lang.safetensors
  corpus=corpora/out/mini-$lang
  o=$out/$lang
  mkdir -p "$o"
  step "$lang: transcription (greedy CTC) — CER and WER"
  "$napkit" eval --model "$model" --threads $threads "$corpus" -o "$o/eval.json" | tee "$o/eval.txt"

  step "$lang: forced alignment, checked against the synthesizer's phoneme timings"
  "$napkit" align --model "$model" --language "$lang" --threads $threads \
      --reference "$corpus" "$corpus" -o "$o/align" | tee "$o/align.txt"

  step "$lang: GradNAPs (activation × gradient) of every layer, per phoneme"
  "$napkit" naps --model "$model" --align "$o/align" --group phoneme --mode gxa \
      --threads $threads "$corpus" -o "$o/naps"

  # The phonetic class of every phoneme, from the events, for cluster purity.
  sed -n 's/.*"tier":"phones".*"label":"\([^"]*\)".*"class":"\([^"]*\)".*/\1\t\2/p' \
      "$o/align/events.jsonl" | sort -u > "$o/phone_classes.tsv"

  for layer in 2 5 8 10; do
    step "$lang: clustering layer $layer's phoneme profiles"
    "$napkit" cluster --naps-dir "$o/naps" --layer $layer --method average --metric correlation \
        --optimal-order --classes "$o/phone_classes.tsv" \
        --title "$lang model, layer $layer GradNAPs" -o "$o/cluster_$layer"
    "$napkit" plot heatmap "$o/naps/layer_$(printf %02d $layer)_flat.npy" \
        --rows-from "$o/cluster_$layer" --title "$lang layer $layer: phonemes × units" \
        --xlabel unit -o "$o/cluster_$layer/heatmap.png"
  done

  step "$lang: ERP curves of one unit in layer 8"
  groups=$(head -n 4 "$o/naps/groups.txt" | paste -sd, -)
  "$napkit" plot erp "$o/naps" --layer 8 --neuron 0 --groups "$groups" \
      --title "$lang layer 8, unit 0" -o "$o/erp_layer8_unit0.png"

  step "$lang: integrated gradients of the transcript's log-likelihood"
  utt=$(find "$corpus/test" -name '*.flac' | sort | head -n 1)
  "$napkit" attribute --model "$model" "$utt" --method ig --target ctc \
      --textgrid "${utt%.flac}.TextGrid" -o "$o/attribution"
done

step "English vs German: CKA, unit matching, phoneme profiles, topographic maps"
"$napkit" compare --model-a models/en.safetensors --model-b models/de.safetensors \
    --corpus corpora/out/mini-en --corpus corpora/out/mini-de \
    --naps-a "$out/en/naps" --naps-b "$out/de/naps" --threads $threads -o "$out/compare"

step "done"
echo "demo outputs are in $out/:"
for lang in en de; do
  echo "  $lang: $(tail -n 1 "$out/$lang/eval.txt")"
done
echo "  dendrograms: $out/{en,de}/cluster_*/dendrogram.png, heatmaps beside them"
echo "  ERP curves:  $out/{en,de}/erp_layer8_unit0.png"
echo "  comparison:  $out/compare/summary.md"
