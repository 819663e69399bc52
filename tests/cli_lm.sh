#!/usr/bin/env bash
# napkit lm, and eval / transcribe with --lm, --beam, --lm-weight, --bonus:
# exit codes, messages naming the file, the LM steering the transcript,
# results independent of the thread count. Prints "N passed, N failed" last.
set -u
source "$(dirname "$0")/clilib.sh"

cp tests/fixtures/frontend/signal.wav $tmp/signal.wav
printf 'signal.wav\thello world\n' > $tmp/one.tsv
printf 'signal.wav\thello world\nsignal.wav\tthe 3 cats\nsignal.wav\tworld\n' > $tmp/three.tsv
m=$tmp/small.safetensors   # an untrained model: what it hears is noise, so the LM shows
expect model-init 0 '' -- $napkit model init --arch models/arch/small.json --seed 5 -o $m

expect lm-help 0 'usage: napkit lm' -- $napkit lm --help
expect lm-train 0 '1 transcripts .*order 6: wrote .*hw\.lm' -- $napkit lm --lang en $tmp/one.tsv -o $tmp/hw.lm
expect lm-model 0 'order 3: wrote' -- $napkit lm --model $m --order 3 $tmp/one.tsv -o $tmp/m3.lm
expect lm-skipped 0 'three\.tsv: skipped 1 transcript' -- $napkit lm --lang en $tmp/three.tsv -o $tmp/three.lm
expect lm-no-alphabet 2 'one of --model and --lang' -- $napkit lm $tmp/one.tsv -o $tmp/x.lm
expect lm-both-alphabets 2 'one of --model and --lang' -- $napkit lm --lang en --model $m $tmp/one.tsv -o $tmp/x.lm
expect lm-no-output 2 '-o OUT\.lm' -- $napkit lm --lang en $tmp/one.tsv
expect lm-order-range 2 '--order wants an integer in \[1, 10\]' -- $napkit lm --lang en --order 11 $tmp/one.tsv -o $tmp/x.lm
expect lm-missing-corpus 1 'nope\.tsv' -- $napkit lm --lang en $tmp/nope.tsv -o $tmp/x.lm
printf 'signal.wav\tthe 3 cats\n' > $tmp/none.tsv
expect lm-no-transcripts 1 'none\.tsv: no transcripts to train on' -- $napkit lm --lang en $tmp/none.tsv -o $tmp/x.lm
[ ! -e $tmp/x.lm ]
check "lm wrote a file after an error" $?

# greedy, beam without LM, beam with the LM: a strong LM trained on "hello
# world" makes the untrained model say it, which greedy decoding does not
greedy=$($napkit transcribe --model $m $tmp/signal.wav)
check "transcribe greedy" $?
expect transcribe-beam 0 '' -- $napkit transcribe --model $m $tmp/signal.wav --beam 4
expect transcribe-lm 0 '^hello wor' -- $napkit transcribe --model $m $tmp/signal.wav --lm $tmp/hw.lm --lm-weight 2 --bonus 1
! grep -q '^hello wor' <<< "$greedy"
check "greedy transcript already says hello: the LM test shows nothing" $?
expect transcribe-lm-model 0 '' -- $napkit transcribe --model $m $tmp/signal.wav --lm $tmp/m3.lm

expect eval-greedy 0 'CER [0-9.]+%  WER [0-9.]+%$' -- $napkit eval --model $m $tmp/one.tsv --threads 1
expect eval-beam 0 'decoding beam 8, no LM' -- $napkit eval --model $m $tmp/one.tsv --beam 8 --threads 1
# weighted heavily, the LM trained on the reference alone recovers it exactly
expect eval-lm 0 'CER 0\.00%  WER 0\.00%  decoding beam 16, LM .*hw\.lm \(weight 8, bonus 0\)' -- \
  $napkit eval --model $m $tmp/one.tsv --lm $tmp/hw.lm --lm-weight 8 --threads 1 -o $tmp/e1.json
grep -qE '"hypothesis":[[:space:]]*"hello world"' $tmp/e1.json
check "eval -o records the LM-decoded hypothesis" $?
grep -qE '"decoding":[[:space:]]*"beam 16, LM .*hw\.lm \(weight 8, bonus 0\)"' $tmp/e1.json
check "eval -o records the decoding settings" $?
expect eval-greedy-json 0 '' -- $napkit eval --model $m $tmp/one.tsv --threads 1 -o $tmp/g.json
grep -qE '"decoding":[[:space:]]*"greedy"' $tmp/g.json
check "eval -o records greedy decoding" $?
printf 'signal.wav\thello world\nsignal.wav\thello\nsignal.wav\tworld\n' > $tmp/many.tsv
expect eval-lm-threads1 0 '' -- $napkit eval --model $m $tmp/many.tsv --lm $tmp/hw.lm --threads 1 -o $tmp/t1.json
expect eval-lm-threads2 0 '' -- $napkit eval --model $m $tmp/many.tsv --lm $tmp/hw.lm --threads 2 -o $tmp/t2.json
cmp -s $tmp/t1.json $tmp/t2.json
check "eval --lm depends on the thread count" $?

# bad LM files and options
expect eval-lm-missing 1 'nope\.lm: cannot open' -- $napkit eval --model $m $tmp/one.tsv --lm $tmp/nope.lm
head -c 40 $tmp/hw.lm > $tmp/cut.lm
expect eval-lm-truncated 1 'cut\.lm: truncated language model file' -- $napkit eval --model $m $tmp/one.tsv --lm $tmp/cut.lm
expect transcribe-lm-garbage 1 'one\.tsv: not a napkit language model' -- \
  $napkit transcribe --model $m $tmp/signal.wav --lm $tmp/one.tsv
expect lm-de 0 'wrote' -- $napkit lm --lang de $tmp/one.tsv -o $tmp/de.lm
expect eval-lm-alphabet 1 'de\.lm: language model over another alphabet' -- \
  $napkit eval --model models/en.safetensors $tmp/one.tsv --lm $tmp/de.lm
expect transcribe-lm-alphabet 1 'de\.lm: language model over another alphabet' -- \
  $napkit transcribe --model models/en.safetensors $tmp/signal.wav --lm $tmp/de.lm
expect eval-weight-no-lm 2 '--lm-weight needs --lm' -- $napkit eval --model $m $tmp/one.tsv --lm-weight 1
expect transcribe-beam-range 2 '--beam wants an integer' -- $napkit transcribe --model $m $tmp/signal.wav --beam 0
expect eval-bonus-number 2 '--bonus wants a number' -- $napkit eval --model $m $tmp/one.tsv --bonus x
cli_done
