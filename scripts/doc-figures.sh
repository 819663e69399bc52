#!/usr/bin/env bash
# Regenerates the figures of docs/attribution.md from the shipped English model
# on the mini English corpus (make corpora builds it):
#   docs/img/attr_ig.png       integrated gradients of the transcript's log-likelihood
#   docs/img/attr_gradcam.png  Grad-CAM of one token
#   docs/img/attr_lrp.png      LRP-ε of the same token
#   docs/img/attr_sanity.png   cascading randomization, Spearman of |S|
#   docs/img/attr_featvis.png  activation maximization of one channel, default settings
#   docs/img/attr_top.png      the test-set frame where that channel fires most
# Usage: scripts/doc-figures.sh NAPKIT   (or: make doc-figures)
# Settings come from the environment: MODEL, CORPUS, CHANNEL (L:C, the channel
# maximized and scanned for, default 8:5), TOKEN (default 3), OUT (the runs'
# folder, default build/doc-figures). About a minute on 2 cores.
set -euo pipefail

napkit=${1:?usage: scripts/doc-figures.sh NAPKIT}
model=${MODEL:-models/en.safetensors}
corpus=${CORPUS:-corpora/out/mini-en}
channel=${CHANNEL:-8:5}
token=${TOKEN:-3}
out=${OUT:-build/doc-figures}
img=docs/img
# Two workers at most: the machine may be training at the same time.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OPENBLAS_NUM_THREADS=1

fail() { echo "doc-figures: $*" >&2; exit 1; }
[ -x "$napkit" ] || fail "$napkit: no napkit executable there (make builds build/napkit)"
[ -f "$model" ] || fail "$model: no such model file"
[ -d "$corpus/test" ] && [ -d "$corpus/dev" ] || fail "$corpus: no dev/ and test/ folders (make corpora builds them)"
[ -d "$img" ] || fail "$img: no such folder (run from the repository root)"

# The test set's first utterance, its transcript (LibriSpeech layout) and its alignment.
audio=$(find "$corpus/test" -name '*.flac' | sort | head -n 1)
[ -n "$audio" ] || fail "$corpus/test: no .flac utterances"
id=$(basename "$audio" .flac)
textgrid=${audio%.flac}.TextGrid
text=$(cat "$(dirname "$audio")"/*.trans.txt | awk -v id="$id" '$1 == id { $1 = ""; sub(/^ /, ""); print }')
[ -n "$text" ] || fail "$audio: no transcript line for $id in $(dirname "$audio")/*.trans.txt"
[ -f "$textgrid" ] || fail "$textgrid: no alignment beside the audio"
echo "doc-figures: $model on $id: \"$text\""
mkdir -p "$out"

run() { # NAME COMMAND...: runs one napkit command, its log in $out/NAME.log
    local name=$1
    shift
    "$napkit" "$@" >"$out/$name.log" 2>&1 || { tail -n 20 "$out/$name.log" >&2; fail "$name failed (log: $out/$name.log)"; }
}

attribute() { # NAME METHOD TARGET [OPTIONS...]
    local name=$1 method=$2 target=$3
    shift 3
    run "$name" attribute --model "$model" "$audio" --text "$text" --textgrid "$textgrid" \
        --method "$method" --target "$target" "$@" -o "$out/$name"
    cp "$out/$name/attribution.png" "$img/attr_$name.png"
}

attribute ig ig ctc   # the steps double until the map adds up (50 left 41 % out here)
attribute gradcam gradcam "token:$token"
attribute lrp lrp-eps "token:$token"

run sanity sanity --model "$model" "$corpus/test" --methods saliency,gxi,guided,gradcam,lrp-eps \
    --mode cascade --max-utterances 8 -o "$out/sanity"
cp "$out/sanity/sanity_cascade_spearman_abs.png" "$img/attr_sanity.png"

layer=${channel%%:*} unit=${channel##*:}
run featvis featvis maximize --model "$model" --objective channel --layer "$layer" --channel "$unit" \
    -o "$out/featvis"
cp "$out/featvis/featvis.png" "$img/attr_featvis.png"

run top featvis top --model "$model" "$corpus/test" --units "$channel" -k 4 -o "$out/top"
cp "$out/top/unit_${layer}_${unit}/rank_00.png" "$img/attr_top.png"

# The numbers the figures show, for the text of docs/attribution.md.
summary=$out/summary.txt
{
    echo "model $model, utterance $id: \"$text\""
    for n in ig gradcam lrp; do echo "$n: $(tr -d '\n' <"$out/$n/attribution.json" | head -c 400)"; done
    echo "sanity (cascade; step, layer, method, spearman_abs, ...):"
    cat "$out/sanity/sanity.csv"
    echo "featvis: $(tail -n 1 "$out/featvis.log")"
    echo "top $channel:"
    cat "$out/top/top.json"
} >"$summary"
echo "doc-figures: wrote $img/attr_{ig,gradcam,lrp,sanity,featvis,top}.png; numbers in $summary"
