#!/usr/bin/env bash
# napkit naps / merge end to end: letter events from forced alignment, an
# events file with malformed lines and unknown utterances, output shapes,
# shards merged against one run, --resume after an interrupt, bad input.
# Prints "N passed, N failed" last.
set -u
source "$(dirname "$0")/clilib.sh"
py=/usr/bin/python3

# A corpus of copies of the 5 s fixture signal with different transcripts.
c=$tmp/corpus; mkdir -p $c
texts=("hello world" "the cat sat" "a bad dog" "see the sea" "tea at ten" "dead beat" "he had a hat" "set the date")
for i in 0 1 2 3 4 5 6 7; do
  cp tests/fixtures/frontend/signal.wav $c/u$i.wav
  printf 'u%d.wav\t%s\n' $i "${texts[$i]}" >> $c/all.tsv
  if [ $i -lt 3 ]; then printf 'u%d.wav\t%s\n' $i "${texts[$i]}" >> $c/first.tsv
  else printf 'u%d.wav\t%s\n' $i "${texts[$i]}" >> $c/rest.tsv; fi
  if [ $((i % 2)) -eq 0 ]; then printf 'u%d.wav\t%s\n' $i "${texts[$i]}" >> $c/even.tsv
  else printf 'u%d.wav\t%s\n' $i "${texts[$i]}" >> $c/odd.tsv; fi
done
m=$tmp/m.safetensors
$napkit model init --arch models/arch/small.json --seed 3 -o $m > /dev/null

expect help 0 'usage: napkit naps' -- $napkit naps --help
expect no-model 2 'needs --model' -- $napkit naps $c/all.tsv -o $tmp/x
expect no-corpus 2 'needs at least one CORPUS' -- $napkit naps --model $m -o $tmp/x
expect phoneme-needs-align 2 'needs --align' -- $napkit naps --model $m --group phoneme $c/all.tsv -o $tmp/x
expect bad-mode 2 'mode' -- $napkit naps --model $m --mode nap $c/all.tsv -o $tmp/x
expect bad-baseline 2 'inside the window' -- $napkit naps --model $m --window 5 --baseline -9:-6 $c/all.tsv -o $tmp/x
expect layer-range 1 'layer 11 is out of range \(the model has layers 0 to 10\)' -- \
  $napkit naps --model $m --layers 0,11 $c/all.tsv -o $tmp/x
expect layer-syntax 1 "'0;3' is not 'all'" -- $napkit naps --model $m --layers '0;3' $c/all.tsv -o $tmp/x
expect missing-model 1 'nope\.safetensors' -- $napkit naps --model $tmp/nope.safetensors $c/all.tsv -o $tmp/x

# Letter events from the model's own forced alignment.
expect letters 0 '' -- $napkit naps --model $m $c/all.tsv -o $tmp/l --layers 0,8,10 --mode gxa --window 5 --min-count 3 --threads 2
G=$(wc -l < $tmp/l/groups.txt)
shape letters-l0 $tmp/l/layer_00.npy "($G, 128, 11)"
shape letters-l8-sem $tmp/l/layer_08_sem.npy "($G, 256, 11)"
shape letters-l10-flat $tmp/l/layer_10_flat.npy "($G, 29)"
grep -q '"ctc-forced-alignment"' $tmp/l/naps.json && grep -q '"dropped"' $tmp/l/naps.json
check "naps.json identity and dropped groups" $?
# The ERP figure straight from the folder: named groups, SEM bands, ms axis.
g1=$(sed -n 1p $tmp/l/groups.txt); g2=$(sed -n 2p $tmp/l/groups.txt)
expect erp-from-naps 0 '' -- $napkit plot erp $tmp/l --layer 8 --neuron 3 --groups "$g2,$g1" -o $tmp/erp.svg
grep -q '<svg' $tmp/erp.svg
check "erp figure is an SVG" $?
expect erp-unknown-group 1 "no group 'nosuch'" -- $napkit plot erp $tmp/l --layer 8 --neuron 3 --groups nosuch -o $tmp/x.svg
expect erp-missing-layer 1 'layer_05' -- $napkit plot erp $tmp/l --layer 5 --neuron 3 -o $tmp/x.svg
expect min-count-too-high 1 'no group has 1000 or more events' -- $napkit naps --model $m $c/all.tsv -o $tmp/x --min-count 1000

# Shards over two halves merge to the single run.
expect all 0 '' -- $napkit naps --model $m $c/all.tsv -o $tmp/all --layers 1,9 --mode absgxa --center grad --min-count 1
expect first 0 '' -- $napkit naps --model $m $c/first.tsv -o $tmp/s1 --layers 1,9 --mode absgxa --center grad --min-count 1
expect rest 0 '' -- $napkit naps --model $m $c/rest.tsv -o $tmp/s2 --layers 1,9 --mode absgxa --center grad --min-count 1 --threads 2
expect merge 0 '' -- $napkit merge $tmp/s1/naps.shard $tmp/s2/naps.shard -o $tmp/merged --min-count 1
cmp -s $tmp/all/groups.txt $tmp/merged/groups.txt
check "merged groups" $?
$py - $tmp/all $tmp/merged <<'PY'
import sys, numpy as np
a, b = sys.argv[1], sys.argv[2]
for f in ["layer_01.npy", "layer_01_sem.npy", "layer_09.npy", "layer_09_flat.npy"]:
    x, y = np.load(f"{a}/{f}"), np.load(f"{b}/{f}")
    assert x.shape == y.shape, f
    assert np.allclose(x, y, rtol=1e-5, atol=1e-6 * np.nanmax(np.abs(x)), equal_nan=True), f
PY
check "merged outputs equal the single run" $?
expect merge-twice 1 'in both shards' -- $napkit merge $tmp/s1/naps.shard $tmp/s1/naps.shard -o $tmp/x
expect merge-other-settings 1 'different settings' -- $napkit merge $tmp/s1/naps.shard $tmp/l/naps.shard -o $tmp/x
head -c 100 $tmp/s1/naps.shard > $tmp/cut.shard
expect merge-truncated 1 'cut\.shard' -- $napkit merge $tmp/cut.shard -o $tmp/x

# --resume after a partial run equals one run (same additions in the same order).
expect partial 0 '' -- $napkit naps --model $m $c/first.tsv -o $tmp/r --layers 1,9 --mode absgxa --center grad --min-count 1
expect resume 0 '' -- $napkit naps --model $m $c/all.tsv -o $tmp/r --layers 1,9 --mode absgxa --center grad --min-count 1 --resume
cmp -s $tmp/all/layer_09.npy $tmp/r/layer_09.npy && cmp -s $tmp/all/layer_01_sem.npy $tmp/r/layer_01_sem.npy
check "resumed run is bit-identical to one run" $?
expect resume-other-settings 2 'cannot resume' -- $napkit naps --model $m $c/all.tsv -o $tmp/r --layers 1,9 --mode act --resume

# Ctrl-C: the shard holds what was done; --resume finishes the job.
for i in $(seq 8 23); do cp tests/fixtures/frontend/signal.wav $c/v$i.wav; printf 'v%d.wav\tthe head\n' $i >> $c/big.tsv; done
$napkit naps --model $m $c/big.tsv -o $tmp/big1 --layers all --mode gxa --center grad --min-count 1 > /dev/null 2>&1
$napkit naps --model $m $c/big.tsv -o $tmp/int --layers all --mode gxa --center grad --min-count 1 --checkpoint 0.001 > $tmp/int.log 2>&1 &
pid=$!
for _ in $(seq 1 400); do [ -f $tmp/int/naps.shard ] && break; sleep 0.05; done
kill -INT $pid 2>/dev/null
wait $pid; rc=$?
if [ $rc -eq 1 ]; then
  grep -q 'interrupted: .* run again with --resume' $tmp/int.log
  check "interrupt message" $?
else  # finished before the signal arrived: nothing to resume, still a valid run
  [ $rc -eq 0 ]; check "interrupted run exit code $rc" $?
fi
expect resume-after-interrupt 0 '' -- $napkit naps --model $m $c/big.tsv -o $tmp/int --layers all --mode gxa --center grad --min-count 1 --resume
$py - $tmp/big1 $tmp/int <<'PY'
import sys, numpy as np
for l in range(11):
    x, y = np.load(f"{sys.argv[1]}/layer_{l:02d}.npy"), np.load(f"{sys.argv[2]}/layer_{l:02d}.npy")
    assert np.array_equal(x, y, equal_nan=True), l
PY
check "interrupted + resumed equals one run" $?

# An events file: phones with letters and classes, malformed lines, unknown utterances.
a=$tmp/align; mkdir -p $a
{
  for i in 0 1 2 3 4 5 6 7; do
    for k in 0 1 2 3 4 5 6 7 8 9; do
      t=$(awk -v k=$k 'BEGIN { printf "%.3f", 0.3 + 0.4 * k }')
      case $((k % 3)) in 0) p=s; l=s; cl=fricative;; 1) p=æ; l=a; cl=vowel;; 2) p=t; l=t; cl=stop;; esac
      printf '{"utt": "u%d", "tier": "phones", "label": "%s", "start": %s, "end": %s, "peak": %s, "letter": "%s", "class": "%s"}\n' \
        $i $p $t $(awk -v t=$t 'BEGIN { printf "%.3f", t + 0.08 }') $(awk -v t=$t 'BEGIN { printf "%.3f", t + 0.04 }') $l $cl
    done
  done
  echo '{"utt": "u0", "tier": "phones", "label": "x", "start": 1, "end": 0.5}'
  echo 'garbage'
  echo '{"utt": "nowhere-1", "tier": "phones", "label": "s", "start": 0.1, "end": 0.2, "letter": "s"}'
  echo '{"utt": "u1", "tier": "phones", "label": "s", "start": 9.0, "end": 9.1, "letter": "s"}'
} > $a/events.jsonl
n=$(wc -l < $a/events.jsonl)
expect align-phones 0 "events\.jsonl:$((n - 2)): not valid JSON" -- \
  $napkit naps --model $m --align $a $c/all.tsv -o $tmp/ph --layers 2 --mode gxa --window 4 --min-count 5
expect align-missing-utt 0 '^  nowhere-1$' -- \
  $napkit naps --model $m --align $a $c/all.tsv -o $tmp/ph --layers 2 --mode gxa --window 4 --min-count 5
expect align-beyond-end 0 '1 events skipped \(beyond' -- \
  $napkit naps --model $m --align $a $c/all.tsv -o $tmp/ph --layers 2 --mode gxa --window 4 --min-count 5
printf 's\nt\næ\n' | sort | cmp -s - <(sort $tmp/ph/groups.txt)
check "phoneme groups" $?
shape align-shape $tmp/ph/layer_02.npy "(3, 128, 9)"
expect align-class 0 '' -- $napkit naps --model $m --align $a --group class $c/all.tsv -o $tmp/cl --layers 2 --min-count 5
printf 'fricative\nstop\nvowel\n' | cmp -s - $tmp/cl/groups.txt
check "class groups" $?
expect align-words 1 'no words events' -- $napkit naps --model $m --align $a --group word $c/all.tsv -o $tmp/x
expect align-no-dir 1 'events\.jsonl' -- $napkit naps --model $m --align $tmp/none $c/all.tsv -o $tmp/x
echo '{"utt": "zzz", "tier": "phones", "label": "s", "start": 0.1, "end": 0.2}' > $tmp/none.jsonl
mkdir -p $tmp/none && mv $tmp/none.jsonl $tmp/none/events.jsonl
expect align-only-unknown 1 'none of the 1 phones events refers to an utterance' -- \
  $napkit naps --model $m --align $tmp/none $c/all.tsv -o $tmp/x

# mpirun -n 2: rank r featurizes, aligns and sums utterances r, r+2, … only;
# rank 0 adds rank 1's shard to its own, which is exactly `napkit merge` of the
# even and odd halves.
if ldd "$napkit" | grep -q libmpi && command -v mpirun > /dev/null; then
  # OpenMPI's plugins are dlclose'd at exit, so LeakSanitizer (make asan) sees
  # their process-lifetime allocations as leaks of unknown modules; napkit's own
  # code on this path is leak-checked by the single-process runs above.
  # check_log NAME STATUS LOG: check, showing LOG when it failed.
  check_log() { check "$1" $2; [ $2 -eq 0 ] || cat $3 >&2; }
  # mpi LOG CMD...: runs CMD on 2 ranks with its output in LOG.
  mpi() {
    local log=$1; shift
    env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
      mpirun --allow-run-as-root --oversubscribe -n 2 "$@" > $log 2>&1
    check_log "mpirun $*" $? $log
  }
  mpi $tmp/mpi.log $napkit naps --model $m $c/all.tsv -o $tmp/mpi --layers 1,9 --mode absgxa --center grad --min-count 1
  grep -q '^napkit naps (rank 0 of 2): featurized 4 of the corpus.s 8 utterances$' $tmp/mpi.log &&
    grep -q '^napkit naps (rank 1 of 2): featurized 4 of the corpus.s 8 utterances$' $tmp/mpi.log
  check_log "each MPI rank featurizes only its half" $? $tmp/mpi.log
  expect even 0 '' -- $napkit naps --model $m $c/even.tsv -o $tmp/even --layers 1,9 --mode absgxa --center grad --min-count 1
  expect odd 0 '' -- $napkit naps --model $m $c/odd.tsv -o $tmp/odd --layers 1,9 --mode absgxa --center grad --min-count 1
  expect merge-halves 0 '' -- $napkit merge $tmp/even/naps.shard $tmp/odd/naps.shard -o $tmp/halves --min-count 1
  cmp -s $tmp/mpi/layer_01.npy $tmp/halves/layer_01.npy && cmp -s $tmp/mpi/layer_09_sem.npy $tmp/halves/layer_09_sem.npy
  check "2 MPI ranks are bit-identical to merging the two halves" $?
  $py - $tmp/all $tmp/mpi <<'PY'
import sys, numpy as np
for f in ["layer_01.npy", "layer_09.npy", "layer_09_flat.npy"]:
    x, y = np.load(f"{sys.argv[1]}/{f}"), np.load(f"{sys.argv[2]}/{f}")
    assert np.allclose(x, y, rtol=1e-5, atol=1e-6 * np.nanmax(np.abs(x)), equal_nan=True), f
PY
  check "2 MPI ranks equal the single run" $?

  # With an events file and an unreadable audio file: every problem is
  # reported once (by the rank it belongs to, or rank 0 for what all ranks
  # see alike), and the result is still the single run's.
  cp $c/all.tsv $c/bad.tsv; printf 'not audio' > $c/bad.wav; printf 'bad.wav\tthe bad\n' >> $c/bad.tsv
  mpi $tmp/mpi-ph.log \
    $napkit naps --model $m --align $a $c/bad.tsv -o $tmp/mpi-ph --layers 2 --mode gxa --window 4 --min-count 5
  for what in 'bad\.wav' 'not valid JSON' '^  nowhere-1$' '1 events skipped \(beyond'; do
    [ "$(grep -cE "$what" $tmp/mpi-ph.log)" -eq 1 ]
    check_log "MPI run reports '$what' once" $? $tmp/mpi-ph.log
  done
  cmp -s $tmp/ph/groups.txt $tmp/mpi-ph/groups.txt && $py - $tmp/ph $tmp/mpi-ph <<'PY'
import sys, numpy as np
for f in ["layer_02.npy", "layer_02_sem.npy", "layer_02_flat.npy"]:
    x, y = np.load(f"{sys.argv[1]}/{f}"), np.load(f"{sys.argv[2]}/{f}")
    assert np.allclose(x, y, rtol=1e-5, atol=1e-6 * np.nanmax(np.abs(x)), equal_nan=True), f
PY
  check "2 MPI ranks with --align equal the single run" $?
else
  echo "cli_naps.sh: napkit is built without OpenMPI: MPI run not tested" >&2
fi
cli_done
