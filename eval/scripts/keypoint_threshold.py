#!/usr/bin/env python3
"""Choose the chrF++ threshold for key-point matching (src/eval/keypoints.rs).

Requirements (installs nothing itself):

    python3 -m pip install sacrebleu==2.6.0

Run from the repository root:

    python3 eval/scripts/keypoint_threshold.py [--ntrex DIR]

Sentence-level chrF++ here is sacrebleu's, which the Rust implementation
reproduces exactly (tests/eval_metrics.rs), so the distributions hold for
nordbrief. Scores are printed on 0-1 like nordbrief's.

Three sets of pairs, (reference point, brief point):
- paraphrases: hand-written pairs stating the same fact in other words, the
  way a model restates a reference key point (should match);
- same-topic: two different facts from the same policy area, every
  reference point against the paraphrases of the other points of its group
  (should not match; the hard case, since key points of one document share
  names and vocabulary);
- same-document: two different sentences of one NTREX news document
  (should not match).

And, when eval/references/*.json exist, the real references:
- reference vs other points: each key point against the best of the *other*
  key points of the same reference, which is what a brief restating only
  other facts would score under best-of-N matching (should not match);
- reference vs own summary: each key point against the best sentence of the
  same reference's summary, which usually restates it (should mostly match;
  a lower bound, since not every key point is in the summary).
"""

import argparse
import glob
import itertools
import json
import os
import random
import re
from collections import defaultdict

from sacrebleu.metrics import CHRF

# Groups of (reference point, paraphrase): points in one group share a topic.
GROUPS = [
    [
        ("Asylum applications to Denmark fell from 21,000 in 2015 to 6,000 in 2016.",
         "Denmark received about 6,000 asylum applications in 2016, down from 21,000 the year before."),
        ("The government wants to cap family reunification for refugees with temporary protection.",
         "Refugees with temporary protection would face limits on bringing their families."),
        ("Municipalities receive DKK 50,000 for each refugee who finds a job within a year.",
         "Local councils get a bonus of 50,000 kroner per refugee employed within twelve months."),
        ("Rejected asylum seekers are housed at the Kærshovedgård departure centre.",
         "The departure centre at Kærshovedgård accommodates asylum seekers whose claims were rejected."),
        ("The report recommends shorter case processing times at the Immigration Service.",
         "According to the report, the Immigration Service should process cases faster."),
    ],
    [
        ("Sweden will raise the income requirement for work permits to 80 percent of the median wage.",
         "The salary threshold for Swedish work permits rises to 80% of the median salary."),
        ("The Migration Agency expects 16,000 asylum seekers in 2024.",
         "In 2024 the Swedish Migration Agency forecasts around 16,000 people seeking asylum."),
        ("Permanent residence permits will require a language test and knowledge of society.",
         "To get permanent residence, applicants must pass tests in Swedish and civics."),
        ("The opposition criticised the proposal as harmful to companies that need foreign workers.",
         "Opposition parties said the plan would hurt businesses that rely on workers from abroad."),
        ("The new rules take effect on 1 November 2023.",
         "The changes enter into force on November 1, 2023."),
    ],
    [
        ("Norway received 37,000 refugees from Ukraine in 2023.",
         "In 2023, some 37,000 Ukrainian refugees arrived in Norway."),
        ("The Directorate of Immigration (UDI) warns that reception centres are almost full.",
         "UDI says its asylum reception centres are nearly at capacity."),
        ("Collective protection for Ukrainians is extended by one year.",
         "Temporary collective protection for people from Ukraine has been prolonged for another year."),
        ("Municipalities are asked to settle 28,000 refugees next year.",
         "The government asks local authorities to resettle 28,000 refugees in the coming year."),
        ("The minister proposes stricter rules for Ukrainians arriving from other safe countries.",
         "Ukrainians who come via another safe country would be subject to tighter rules under the minister's proposal."),
    ],
    [
        ("The EU pact on migration and asylum was adopted in April 2024.",
         "In April 2024 the EU adopted its migration and asylum pact."),
        ("Border procedures will screen arrivals within seven days.",
         "New arrivals at the external border are to be screened in seven days."),
        ("Member states can choose between accepting relocations and paying 20,000 euros per person.",
         "Countries may either take in relocated asylum seekers or contribute 20,000 euros for each one."),
        ("Denmark has an opt-out and is not bound by the pact.",
         "Because of its opt-out, Denmark does not have to apply the pact."),
        ("Human rights groups fear more detention of children.",
         "Rights organisations worry that more children will be held in detention."),
    ],
    [
        ("Finland closed its border crossings with Russia in November 2023.",
         "All crossing points on the Finnish-Russian border were shut in November 2023."),
        ("About 1,300 asylum seekers arrived over the eastern border in three months.",
         "In three months roughly 1,300 people crossed the eastern frontier and applied for asylum."),
        ("The government accuses Russia of steering migrants towards the border.",
         "Helsinki says Moscow is deliberately directing migrants to the frontier."),
        ("A new law allows border guards to refuse asylum applications at the border for a limited time.",
         "Under the new act, border guards may temporarily turn away asylum claims at the border."),
        ("Critics say the law breaches the Refugee Convention.",
         "Opponents argue that the act violates the 1951 Refugee Convention."),
    ],
]


def read_ntrex(directory):
    with open(os.path.join(directory, "ntrex128.eng.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    with open(os.path.join(directory, "DOCUMENT_IDS.tsv"), encoding="utf-8") as f:
        ids = f.read().split("\n")
    documents = defaultdict(list)
    for doc_id, line in zip(ids, lines):
        if line.strip():
            documents[doc_id].append(line)
    return documents


def percentiles(values, marks=(50, 90, 95, 99, 100)):
    ordered = sorted(values)
    out = []
    for m in marks:
        index = min(len(ordered) - 1, int(round(m / 100 * (len(ordered) - 1))))
        out.append(f"p{m}={ordered[index]:.3f}")
    return " ".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    parser.add_argument("--ntrex", default=os.path.join(repo, "..", "shared", "data", "ntrex128"))
    args = parser.parse_args()

    chrf = CHRF(word_order=2)

    def sim(reference, brief):
        return chrf.sentence_score(brief, [reference]).score / 100

    paraphrase = [sim(r, b) for group in GROUPS for r, b in group]
    same_topic = [
        sim(r, b)
        for group in GROUPS
        for (i, (r, _)), (j, (_, b)) in itertools.product(enumerate(group), repeat=2)
        if i != j
    ]
    rng = random.Random(7)
    documents = read_ntrex(args.ntrex)
    same_document = []
    for lines in documents.values():
        pairs = [(a, b) for a, b in itertools.permutations(lines, 2)]
        for a, b in rng.sample(pairs, min(40, len(pairs))):
            same_document.append(sim(a, b))

    other_points, own_summary = [], []
    for path in sorted(glob.glob(os.path.join(repo, "eval", "references", "*.json"))):
        with open(path, encoding="utf-8") as f:
            reference = json.load(f)
        if not isinstance(reference, dict) or "key_points" not in reference:
            continue
        points = reference["key_points"]
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", reference.get("summary", "")) if s]
        for i, point in enumerate(points):
            others = [sim(point, other) for j, other in enumerate(points) if j != i]
            if others:
                other_points.append(max(others))
            if sentences:
                own_summary.append(max(sim(point, s) for s in sentences))

    sets = [
        ("paraphrases", paraphrase, True),
        ("same topic", same_topic, False),
        ("same document", same_document, False),
    ]
    if other_points:
        sets += [
            ("ref vs other points", other_points, False),
            ("ref vs own summary", own_summary, True),
        ]
    for name, values, _ in sets:
        print(f"{name:20s} n={len(values):5d} {percentiles(values, (5, 25, 50, 75, 95))}")
    print()
    print("share at or above the threshold (should match: higher is better; should not: lower)")
    print("threshold " + "".join(f"{name:>22s}" for name, _, _ in sets))
    for t in [x / 100 for x in range(20, 55, 5)]:
        row = "".join(f"{sum(v >= t for v in values) / len(values):22.1%}" for _, values, _ in sets)
        print(f"   {t:.2f}  {row}")


if __name__ == "__main__":
    main()
