#!/usr/bin/env bash
# napkit report through the command line: usage errors (exit 2), unreadable
# inputs (exit 1, naming the file), and one small run of a random model on
# copies of the front-end fixture with a tiny lexicon (the page, report.json,
# the figures it lists, the headline). Prints "N passed, N failed" last.
set -u
source "$(dirname "$0")/clilib.sh"

c=$tmp/corpus; mkdir -p $c
texts=("a bad cab" "the cat sat" "he had a hat")
for i in 0 1 2; do
  cp tests/fixtures/frontend/signal.wav $c/u$i.wav
  printf 'u%d.wav\t%s\n' $i "${texts[$i]}" >> $c/all.tsv
done
printf 'A  AH0\nBAD  B AE1 D\nCAB  K AE1 B\nTHE  DH AH0\nCAT  K AE1 T\nSAT  S AE1 T\nHE  HH IY1\nHAD  HH AE1 D\nHAT  HH AE1 T\n' > $tmp/dict
m=$tmp/m.safetensors
$napkit model init --arch models/arch/small.json --seed 5 -o $m > /dev/null
# the letter-phoneme model, trained on the tiny lexicon into a private cache
export NAPKIT_CACHE=$tmp/cache
$napkit lexicon --language en --lexicon $tmp/dict the > /dev/null 2>&1

expect help 0 'usage: napkit report' -- $napkit report --help
expect no-model 2 'needs --model' -- $napkit report $c/all.tsv -o $tmp/x
expect no-out 2 'needs -o DIR' -- $napkit report --model $m $c/all.tsv
expect no-corpus 2 'needs at least one CORPUS' -- $napkit report --model $m -o $tmp/x
expect b-alone 2 'go together' -- $napkit report --model $m --model-b $m $c/all.tsv -o $tmp/x
expect bad-mode 2 'mode' -- $napkit report --model $m --mode nap $c/all.tsv -o $tmp/x
expect bad-threads 2 'threads' -- $napkit report --model $m --threads 0 $c/all.tsv -o $tmp/x
expect missing-model 1 'nope\.safetensors' -- $napkit report --model $tmp/nope.safetensors $c/all.tsv -o $tmp/x
expect missing-corpus 1 'nosuch' -- $napkit report --model $m --lexicon $tmp/dict $tmp/nosuch -o $tmp/x
expect no-lp-model 1 "no letter-phoneme model for 'xx'" -- \
  $napkit report --model $m --language xx $c/all.tsv -o $tmp/x

expect run 0 'report: .*/index\.html' -- $napkit report --quiet --model $m --name toy --lexicon $tmp/dict \
  --min-confidence 0 --min-count 1 --window 3 --attributions 1 --ig-steps 2 --top-units 1 --top-k 1 \
  $c/all.tsv -o $tmp/r
for f in index.html report.json timing.json toy/eval.json toy/align/events.jsonl toy/naps/naps.json \
         toy/cluster_05/clusters.json toy/cluster_05/linkage.npy; do
  [ -s $tmp/r/$f ]; check "report wrote $f" $?
done
# every figure report.json lists exists and the page shows it
n=0
for f in $(grep -o '"file":[^,}]*\.png"' $tmp/r/report.json | sed 's/.*"\(.*\)"/\1/'); do
  [ -s "$tmp/r/$f" ] && grep -qF "<img src=\"$f\"" $tmp/r/index.html; check "figure $f" $?
  n=$((n + 1))
done
[ $n -ge 33 ]; check "at least a dendrogram, heatmap and ERP per layer ($n figures)" $?
for id in overview settings toy-data toy-align toy-naps toy-layers toy-attribution toy-top files; do
  grep -q "id=\"$id\"" $tmp/r/index.html; check "section $id" $?
done
cli_done
