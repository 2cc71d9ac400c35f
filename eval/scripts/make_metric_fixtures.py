#!/usr/bin/env python3
"""Write the metric fixtures that prove nordbrief's ROUGE, chrF++ and BLEU
match the reference implementations.

Requirements (this script installs nothing itself):

    python3 -m pip install rouge-score==0.1.2 sacrebleu==2.6.0 nltk==3.10.4

Run from the repository root:

    python3 eval/scripts/make_metric_fixtures.py

It reads the NTREX-128 parallel text (default ../shared/data/ntrex128, or
--ntrex DIR) and writes tests/fixtures/metrics/*.json. The pairs are drawn
with a fixed seed, so the output only changes when the script or the
reference packages change. tests/eval_metrics.rs reads the fixtures; CI runs
only the Rust side.
"""

import argparse
import json
import os
import random
import re
import sys
from importlib.metadata import version

import sacrebleu
from nltk.stem import porter
from rouge_score import rouge_scorer
from sacrebleu.metrics import BLEU, CHRF

SEED = 20240517
LANGS = ["swe", "dan", "nob", "nno"]


def read_ntrex(directory):
    lines = {}
    for lang in ["eng"] + LANGS:
        path = os.path.join(directory, f"ntrex128.{lang}.txt")
        with open(path, encoding="utf-8") as f:
            lines[lang] = f.read().split("\n")
        if lines[lang] and lines[lang][-1] == "":
            lines[lang].pop()
    return lines


# ---------------------------------------------------------------- perturbations

INFLECT = ["s", "es", "ed", "ing", "ly", "ness", "ation", "ies", "ational", "izer"]


def drop_words(rng, text, p):
    words = text.split()
    kept = [w for w in words if rng.random() > p]
    return " ".join(kept)


def swap_words(rng, text, n):
    words = text.split()
    for _ in range(n):
        if len(words) < 2:
            break
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def inflect_words(rng, text, p):
    out = []
    for w in text.split():
        if rng.random() < p and w.isalpha():
            out.append(w + rng.choice(INFLECT))
        else:
            out.append(w)
    return " ".join(out)


def strip_punct(text):
    return re.sub(r"[^\w\s]", "", text)


def spaced_punct(text):
    # Tokenised-looking text: punctuation split off by spaces.
    return re.sub(r"([.,!?;:()\"'])", r" \1 ", text)


def repeat_words(rng, text):
    words = text.split()
    if not words:
        return text
    i = rng.randrange(len(words))
    return " ".join(words[: i + 1] + [words[i]] * 3 + words[i + 1:])


def truncate(text, share):
    words = text.split()
    return " ".join(words[: max(1, int(len(words) * share))])


def perturb(rng, text):
    kind = rng.randrange(9)
    if kind == 0:
        return drop_words(rng, text, 0.2)
    if kind == 1:
        return swap_words(rng, text, 3)
    if kind == 2:
        return inflect_words(rng, text, 0.3)
    if kind == 3:
        return strip_punct(text).lower()
    if kind == 4:
        return spaced_punct(text)
    if kind == 5:
        return repeat_words(rng, text)
    if kind == 6:
        return truncate(text, 0.5)
    if kind == 7:
        return text.upper()
    return inflect_words(rng, drop_words(rng, swap_words(rng, text, 2), 0.1), 0.2)


# ---------------------------------------------------------------- pairs

HAND_MADE = [
    ("", ""),
    ("", "The minister presented the proposal on Tuesday."),
    ("The minister presented the proposal on Tuesday.", ""),
    ("   ", "\t \n"),
    ("...", "!!!"),
    ("?!", "?!"),
    ("- - -", "(...)"),
    ("«»", "“”"),
    ("a", "a"),
    ("a", "b"),
    ("I", "I am"),
    ("Hello, world.", "hello world"),
    ("(Hello) world!", "Hello (world)!"),
    ("\"quoted\" 'single' text.", "quoted single text"),
    ("1,234.5 people in 2019", "1234.5 people in 2019"),
    ("In 2015, 162,877 asylum seekers arrived; in 2016, 28,939.",
     "In 2016, 28,939 asylum seekers arrived; in 2015, 162,877."),
    ("The budget is 5 billion kroner (NOK 5 bn).", "NOK 5 billion was the budget."),
    ("3.5% of 1.2m", "3,5 % av 1,2 milj."),
    ("2019-10-03 10:45", "3 October 2019, 10.45"),
    ("Section 12-3 (2) applies.", "Section 12 - 3 ( 2 ) applies ."),
    ("Migrationsverket beslutade på måndag att öka kvoten.",
     "Migrationsverket beslöt i måndags att höja kvoten."),
    ("Udlændinge- og Integrationsministeriet fremsætter lovforslaget.",
     "Udlændinge og Integrationsministeriet fremsætter forslaget."),
    ("Utlendingsdirektoratet (UDI) får økte midler.", "UDI får økte midler i år."),
    ("Æble, øl og å.", "æble øl og å"),
    ("ÅÄÖ åäö ÆØ æø", "åäö ÅÄÖ æø ÆØ"),
    ("Smörgåsbord", "smorgasbord"),
    ("İstanbul and the Kelvin sign K", "istanbul and the kelvin sign k"),
    ("Straße groß", "strasse gross"),
    ("naïve café résumé", "naive cafe resume"),
    ("emoji 🙂 test 🚀🚀", "emoji test"),
    ("中文 文本 测试", "中文文本测试"),
    ("ﬁnancial ﬂow", "financial flow"),
    ("non\u00a0breaking\u00a0space", "non breaking space"),
    ("zero\u200bwidth", "zerowidth"),
    ("line one\r\nline two\r\nline three", "line one\nline three"),
    ("odd\x1cseparators\x1dhere\x1e\x1fend", "odd separators here end"),
    ("tab\tseparated\tvalues", "tab separated values"),
    ("AT&amp;T said &quot;no&quot; &lt;really&gt;", "AT&T said \"no\" <really>"),
    ("a <skipped> line", "a line"),
    ("hyphen-\nated word", "hyphenated word"),
    ("well-known state-of-the-art", "well known state of the art"),
    ("x-1 and 3-4 and a.b and 3.4 and a,b and 3,4", "x - 1 and 3 - 4"),
    ("cats cats cats cats", "cats"),
    ("cats", "cats cats cats cats"),
    ("the the the the the the the", "the cat sat on the mat the"),
    ("generalization generalizations generalize generalized",
     "generalizing general generally generality"),
    ("skies dying lying tying news innings outings cannings",
     "sky die lie tie new inning outing canning"),
    ("happy happiness happily relational conditional rational",
     "happi happ relate condition ration"),
    ("agreed feed bled sing hopping hoping falling filing",
     "agree fee bleed song hop hope fall file"),
    ("oscillators electrical adjustable defensible irritant",
     "oscillate electric adjust defense irritate"),
    ("controlling rolling probate rate cease generously",
     "control roll probe rat ceas generous"),
    ("abc def", "abc\ndef"),
    ("First sentence.\nSecond sentence here.\n\nThird one after a blank line.",
     "Second sentence here.\nFirst sentence.\nA new third one."),
    ("\n\n\n", "text\n\n"),
    ("only one line", "only\none\nline"),
    ("A B C D\nE F G H", "A B\nC D E F\nG H"),
    ("repeat repeat\nrepeat repeat", "repeat\nrepeat repeat repeat"),
    ("12 34 56", "12 34 56 78"),
    ("0", "0.0"),
    ("e.g. i.e. U.S. U.K.", "eg ie US UK"),
    ("Mr. O'Neil's dog's bone", "Mr O Neil s dog s bone"),
    ("word", "word."),
    (".word", "word"),
    ("!", "!!"),
    ("ab", "ab."),
    ("—dash– and…ellipsis", "dash and ellipsis"),
]


def ntrex_pairs(rng, ntrex, count):
    eng = ntrex["eng"]
    n = len(eng)
    pairs = []
    for k in range(count):
        i = rng.randrange(n)
        ref = eng[i]
        mode = k % 6
        if mode in (0, 1, 2):
            hyp = perturb(rng, ref)
        elif mode == 3:
            hyp = ntrex[rng.choice(LANGS)][i]
        elif mode == 4:
            hyp = eng[rng.randrange(n)]
        else:
            # Reversed roles: a Scandinavian reference, an English hypothesis.
            ref, hyp = ntrex[rng.choice(LANGS)][i], eng[i]
        pairs.append((ref, hyp))
    return pairs


def multiline_pairs(rng, ntrex, count):
    eng = ntrex["eng"]
    pairs = []
    for _ in range(count):
        start = rng.randrange(len(eng) - 8)
        lines = eng[start:start + rng.randrange(2, 7)]
        ref = "\n".join(lines)
        hyp_lines = [perturb(rng, l) for l in lines if rng.random() > 0.2]
        rng.shuffle(hyp_lines)
        if rng.random() < 0.3:
            hyp_lines.append(eng[rng.randrange(len(eng))])
        pairs.append((ref, "\n".join(hyp_lines)))
    return pairs


def long_pairs(rng, ntrex):
    eng = ntrex["eng"]
    start = 400
    ref_lines = eng[start:start + 110]
    hyp_lines = [perturb(rng, l) for l in ref_lines]
    # One long pair with sentences on separate lines (ROUGE-Lsum), one as a
    # single paragraph, one long Scandinavian text against its English.
    return [
        ("\n".join(ref_lines), "\n".join(hyp_lines)),
        (" ".join(ref_lines[:60]), " ".join(hyp_lines[30:90])),
        (" ".join(eng[900:960]), " ".join(ntrex["dan"][900:960])),
    ]


def make_pairs(ntrex):
    rng = random.Random(SEED)
    pairs = list(HAND_MADE)
    pairs += ntrex_pairs(rng, ntrex, 150)
    pairs += multiline_pairs(rng, ntrex, 30)
    pairs += long_pairs(rng, ntrex)
    return pairs


# ---------------------------------------------------------------- metrics

def prf(score):
    return {"p": score.precision, "r": score.recall, "f": score.fmeasure}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    parser.add_argument("--ntrex", default=os.path.join(repo, "..", "shared", "data", "ntrex128"))
    parser.add_argument("--out", default=os.path.join(repo, "tests", "fixtures", "metrics"))
    args = parser.parse_args()

    ntrex = read_ntrex(args.ntrex)
    pairs = make_pairs(ntrex)
    os.makedirs(args.out, exist_ok=True)

    versions = {
        "rouge-score": version("rouge-score"),
        "sacrebleu": sacrebleu.__version__,
        "nltk": version("nltk"),
        "python": sys.version.split()[0],
    }

    scorer = rouge_scorer.RougeScorer(
        ["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
    chrf2 = CHRF(word_order=2)
    chrf3 = CHRF(word_order=2, beta=3)
    bleu_corpus = BLEU()
    bleu_sentence = BLEU(effective_order=True)

    cases = []
    for reference, candidate in pairs:
        rouge = scorer.score(reference, candidate)
        # sacrebleu's argument order: hypothesis first, then references.
        sb = bleu_sentence.sentence_score(candidate, [reference])
        cases.append({
            "reference": reference,
            "candidate": candidate,
            "rouge1": prf(rouge["rouge1"]),
            "rouge2": prf(rouge["rouge2"]),
            "rougeL": prf(rouge["rougeL"]),
            "rougeLsum": prf(rouge["rougeLsum"]),
            "chrf_pp": chrf2.sentence_score(candidate, [reference]).score,
            "chrf3_pp": chrf3.sentence_score(candidate, [reference]).score,
            "sentence_bleu": sb.score,
        })

    # Corpus level: statistics summed over the sentences of each group, then
    # one score. Groups are index ranges into `cases`.
    n_hand = len(HAND_MADE)
    groups = [
        ("hand_made", list(range(0, n_hand))),
        ("ntrex_lines", list(range(n_hand, n_hand + 150))),
        ("everything", list(range(0, len(cases)))),
        ("single_empty_hypothesis", [1]),
        ("empty_hypothesis_among_others", [1, n_hand, n_hand + 1]),
        ("all_empty", [0, 3]),
    ]
    corpora = []
    for name, indices in groups:
        hyps = [cases[i]["candidate"] for i in indices]
        refs = [cases[i]["reference"] for i in indices]
        b = bleu_corpus.corpus_score(hyps, [refs])
        corpora.append({
            "name": name,
            "indices": indices,
            "chrf_pp": chrf2.corpus_score(hyps, [refs]).score,
            "chrf3_pp": chrf3.corpus_score(hyps, [refs]).score,
            "bleu": {
                "score": b.score,
                "counts": list(b.counts),
                "totals": list(b.totals),
                "precisions": list(b.precisions),
                "bp": b.bp,
                "sys_len": b.sys_len,
                "ref_len": b.ref_len,
            },
        })

    # The stemmer on its own, over the NTREX English vocabulary: a stemming
    # difference shows up here by word rather than as a slightly-off score.
    stemmer = porter.PorterStemmer()
    vocabulary = set()
    for line in ntrex["eng"]:
        for w in re.sub(r"[^a-z0-9]+", " ", line.lower()).split():
            if len(w) > 3 and not w.isdigit():
                vocabulary.add(w)
    extra = ["skies", "dying", "lying", "tying", "news", "innings", "inning",
             "outings", "outing", "cannings", "canning", "howe", "proceed",
             "exceed", "succeed", "generously", "ies", "sses", "eed", "ied",
             "cries", "flies", "dies", "ties", "happy", "sky", "spy", "fly"]
    words = sorted(vocabulary)
    words = sorted(set(random.Random(SEED).sample(words, min(3000, len(words))) + extra))
    stems = {w: stemmer.stem(w) for w in words}

    def write(name, payload):
        path = os.path.join(args.out, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(payload, f, ensure_ascii=False, indent=0)
            f.write("\n")
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")

    write("pairs.json", {"versions": versions, "cases": cases, "corpora": corpora})
    write("porter_stems.json", {"versions": versions, "stems": stems})
    print(f"{len(cases)} pairs, {len(corpora)} corpora, {len(stems)} stems")


if __name__ == "__main__":
    main()
