#!/usr/bin/env python3
"""Writes the extra training sentence lists corpora/text/{en,de}-{fortunes,words}.txt
and corpora/text/en-quotes.txt from Debian packages (fortunes, fortunes-de, wamerican,
wngerman, dict-gcide; install them with `scripts/install-deps.sh text`). The lists are
committed, so `make corpora` needs none of these packages; rerun this only to change the
lists. Deterministic.

  fortunes: every sentence of the fortune cookies that is plain text in the language's
            alphabet (no digits, symbols or markup), 3 to 20 words.
  words:    random word sequences, 4 to 10 words: half the words drawn from the fortunes'
            running text (so common words come often, as in speech), half uniformly from
            the spelling dictionary (so most spellings are heard at least once).
  quotes:   (English) every sentence of the literary quotations in the GNU Collaborative
            International Dictionary of English (Webster 1913: Shakespeare, Milton, Dryden,
            the Bible...), by the same rules as the fortunes: the 19th-century prose that
            LibriSpeech's books are written in.

Usage: make-sentences.py OUT_DIR
"""
import gzip
import os
import random
import re
import sys

FORTUNES = "/usr/share/games/fortunes"
GCIDE = "/usr/share/dictd/gcide.dict.dz"
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


def quotations(path):
    """Yields each block quotation of GCIDE as one line of text, without its attribution.
    A block is a run of lines indented by nine or more spaces ending in "--Author."."""
    block = []
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            if not re.match(r"^ {9,}[^\s\[]", line):
                block = []
                continue
            block.append(line.strip())
            if re.search(r"--\s*[A-Z][^-]*$", line):
                quote = re.sub(r"\s*--\s*[A-Z][^-]*$", "", " ".join(block))
                yield re.sub(r"\s*\.( \.)+\s*", " ", quote)  # an elision ". . ." joins its parts
                block = []


def sentences(texts, letters):
    """Yields (sentence, words) for every plain sentence of 3 to 20 words in TEXTS, once."""
    plain = re.compile(r"^[%s ,.!?;:-]+$" % letters, re.IGNORECASE)
    seen = set()
    for cookie in texts:
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
        sents = list(sentences(fortunes(cfg["dir"]), cfg["letters"]))
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
    quotes = [s for s, _ in sentences(quotations(GCIDE), LANGS["en"]["letters"])]
    with open(os.path.join(out, "en-quotes.txt"), "w", encoding="utf-8") as f:
        f.writelines(s + "\n" for s in quotes)
    print("en: %d quotation sentences" % len(quotes))


if __name__ == "__main__":
    main()
