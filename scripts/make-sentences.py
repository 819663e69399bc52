#!/usr/bin/env python3
"""Writes the extra training sentence lists corpora/text/{en,de}-{fortunes,words}.txt
from Debian packages (fortunes, fortunes-de, wamerican, wngerman; install them with
`scripts/install-deps.sh text`). The lists are committed, so `make corpora` needs none
of these packages; rerun this only to change the lists. Deterministic.

  fortunes: every sentence of the fortune cookies that is plain text in the language's
            alphabet (no digits, symbols or markup), 3 to 20 words.
  words:    random word sequences, 4 to 10 words: half the words drawn from the fortunes'
            running text (so common words come often, as in speech), half uniformly from
            the spelling dictionary (so most spellings are heard at least once).

Usage: make-sentences.py OUT_DIR
"""
import os
import random
import re
import sys

FORTUNES = "/usr/share/games/fortunes"
# Collections that are pictures, code or other languages rather than prose.
SKIP = {"art", "ascii-art", "asciiart", "perl", "translate-me", "translations"}
LANGS = {
    "en": dict(dir=FORTUNES, dict="/usr/share/dict/american-english",
               letters="a-z'", dict_word=r"[a-z]+", n_words=9000),
    "de": dict(dir=FORTUNES + "/de", dict="/usr/share/dict/ngerman",
               letters="a-zäöüß'", dict_word=r"[A-ZÄÖÜ]?[a-zäöüß]+", n_words=9000),
}


def fortunes(folder):
    """Yields each fortune of every collection in FOLDER as one line of text."""
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if "." in name or name in SKIP or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for cookie in text.split("\n%\n"):
            # Attribution lines ("-- Mark Twain") are not part of the sentence.
            lines = [l for l in cookie.splitlines() if not re.match(r"\s*--", l)]
            yield " ".join(l.strip() for l in lines)


def sentences(folder, letters):
    plain = re.compile(r"^[%s ,.!?;:-]+$" % letters, re.IGNORECASE)
    seen = set()
    for cookie in fortunes(folder):
        cookie = cookie.replace("\u2019", "'").replace('"', "").replace("(", "").replace(")", "")
        for s in re.split(r"(?<=[.!?])\s+", cookie):
            s = re.sub(r"\s+", " ", s).strip()
            words = re.findall(r"[^\s,.!?;:-]+", s)
            key = " ".join(w.lower() for w in words)
            if plain.match(s) and 3 <= len(words) <= 20 and key not in seen:
                seen.add(key)
                yield s, words


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "corpora/text"
    for lang, cfg in LANGS.items():
        rng = random.Random(1)
        sents = list(sentences(cfg["dir"], cfg["letters"]))
        with open(os.path.join(out, lang + "-fortunes.txt"), "w", encoding="utf-8") as f:
            for s, _ in sents:
                f.write(s + "\n")
        running = [w for _, words in sents for w in words if "'" not in w]
        word = re.compile("^%s$" % cfg["dict_word"])
        with open(cfg["dict"], encoding="utf-8") as f:
            lexicon = sorted({w.strip() for w in f if word.match(w.strip())})
        with open(os.path.join(out, lang + "-words.txt"), "w", encoding="utf-8") as f:
            for _ in range(cfg["n_words"]):
                n = rng.randint(4, 10)
                seq = [rng.choice(running) if rng.random() < 0.5 else rng.choice(lexicon)
                       for _ in range(n)]
                f.write(" ".join(seq) + ".\n")
        print("%s: %d fortune sentences, %d word sequences over %d dictionary words"
              % (lang, len(sents), cfg["n_words"], len(lexicon)))


if __name__ == "__main__":
    main()
