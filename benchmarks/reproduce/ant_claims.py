"""The papers' claims on the ant tables (Najarro & Risi 2020; Palm, Najarro & Risi 2021),
judged on final-mean distances, and the papers' protocol of several seeds per row (the
best on its training morphologies is reported)."""

from __future__ import annotations

import math

from benchmarks.reproduce.ant_rows import (
    BUDGET,
    COLUMNS,
    ROW,
    ROWS,
    TRAIN_B,
    TRAINING,
    by_morphology,
    cost_cell,
    in_table_order,
    progress_cells,
    result_cell,
    split_key,
)

CLAIMS = (
    ("static beats Hebbian on the seen morphologies", "a-static", "a-hebbian",
     ("default", "short-xp-yn")),
    ("Hebbian beats static on the unseen left-front damage", "a-hebbian", "a-static",
     ("short-xp-yp",)),
    ("Static beats Hebbian on the training morphologies", "b-static", "b-hebbian",
     TRAIN_B),
    ("Static beats LSTM on the training morphologies", "b-static", "b-lstm", TRAIN_B),
    ("Hebbian beats Static on the held-out long front", "b-hebbian", "b-static",
     ("long-yp",)),
    ("LSTM beats Static on the held-out long front", "b-lstm", "b-static",
     ("long-yp",)),
    ("Hebbian beats Shared(rho=128) on every morphology", "b-hebbian", "b-shared-128",
     COLUMNS["B"]),
)  # fmt: skip


def _mean_se(result: dict, columns: tuple[str, ...]) -> tuple[float, float]:
    by = by_morphology(result)
    means = [by[c]["mean_m"] for c in columns]
    ses = [by[c]["std_m"] / by[c].get("n_lifetimes", 100) ** 0.5 for c in columns]
    return sum(means) / len(means), sum(x * x for x in ses) ** 0.5 / len(ses)


def judge_claims(results: dict[str, dict]) -> list[dict]:
    """The papers' claims on our final-mean distances: "A beats B" is held when the
    difference of the means over the columns exceeds 2 standard errors, reversed when
    it is below -2, and undecided otherwise."""
    out = []
    for text, a, b, columns in CLAIMS:
        if a not in results or b not in results:
            out.append(dict(claim=text, verdict="not testable (rows missing)"))
            continue
        (ma, sa), (mb, sb) = (
            _mean_se(results[a], columns),
            _mean_se(results[b], columns),
        )
        se = (sa * sa + sb * sb) ** 0.5
        verdict = "held" if ma - mb > 2 * se else "reversed" if mb - ma > 2 * se else (
            "undecided")  # fmt: skip
        evidence = f"{ma:.2f} vs {mb:.2f} m (difference {ma - mb:+.2f} ± {se:.2f})"
        out.append(dict(claim=text, verdict=verdict, evidence=evidence))
    return out


def seed_groups(results: dict[str, dict]) -> dict[str, dict[int, dict]]:
    """Each row's finished seeds, ``{row key: {seed: result}}``, in table order."""
    groups: dict[str, dict[int, dict]] = {}
    for key, result in in_table_order(results).items():
        base, seed = split_key(key)
        groups.setdefault(base, {})[seed] = result
    return groups


def training_mean(result: dict, table: str) -> float:
    """Mean distance (m) over the morphologies the row trained on."""
    return _mean_se(result, TRAINING[table])[0]


def best_seeds(results: dict[str, dict]) -> dict[str, int]:
    """Each row's highest-performing seed, the papers' choice of run: the highest mean
    distance on its training morphologies (held-out columns play no part; a NaN never
    wins; ties: the lower seed)."""

    def score(by_seed: dict[int, dict], table: str, seed: int) -> float:
        value = training_mean(by_seed[seed], table)
        return -math.inf if math.isnan(value) else value

    return {
        row: max(sorted(by_seed), key=lambda s: score(by_seed, ROW[row].table, s))
        for row, by_seed in seed_groups(results).items()
    }


def judge_claims_by_seed(results: dict[str, dict]) -> list[dict]:
    """The claims whose rows have several seeds, judged (``judge_claims``' rule) on each
    row's best seed and on every seed both rows have (seed s of A against seed s of B)."""
    groups, best = seed_groups(results), best_seeds(results)
    on_best = judge_claims({row: groups[row][seed] for row, seed in best.items()})
    out = []
    for i, ((text, a, b, _), claim) in enumerate(zip(CLAIMS, on_best, strict=True)):
        ga, gb = groups.get(a, {}), groups.get(b, {})
        if not ga or not gb or max(len(ga), len(gb)) < 2:
            continue  # a row missing, or one seed each: the main claims say it
        verdicts = {
            s: judge_claims({a: ga[s], b: gb[s]})[i]["verdict"]
            for s in sorted(set(ga) & set(gb))
        }
        held = sum(v == "held" for v in verdicts.values())
        per_seed = f"held in {held} of {len(verdicts)} (" + ", ".join(
            f"seed {s}: {v}" for s, v in verdicts.items()
        ) + ")" if verdicts else "no seed in common"  # fmt: skip
        out.append(
            dict(
                claim=text,
                verdict=claim["verdict"],
                evidence=f"{claim['evidence']}, seed {best[a]} vs {best[b]}",
                same_seed=per_seed,
            )
        )
    return out


def render_seeds(
    results: dict[str, dict],
    progress: dict[str, dict] | None = None,
    generations: int = BUDGET["generations"],
) -> list[str]:
    """Markdown: every seed of the rows trained with more than one (``progress``: runs
    still training, any seed, by run key), each row's best seed marked, and the claims judged
    on the best seeds and seed by seed; [] when every row has one seed."""
    groups, best = seed_groups(results), best_seeds(results)
    training = {}
    for key, p in (progress or {}).items():
        base, seed = split_key(key)
        training.setdefault(base, {})[seed] = p
    several = [
        r for r in ROWS if len(groups.get(r.key, {})) + len(training.get(r.key, {})) > 1
    ]
    if not several:
        return []
    lines = [
        "## Seeds: the papers' protocol",
        "",
        "Najarro & Risi ran three independent evolutionary runs per model and report the "
        "highest-performing one (Palm et al. do not say). Rows trained with several seeds "
        "(`--seeds`): each seed's final mean, 100 lifetimes per morphology; **best** is the "
        "seed with the highest mean distance on the training morphologies (the held-out "
        "morphologies play no part in the choice). The tables above show seed 0.",
    ]
    for table in ("A", "B", "sweep"):
        rows = [r for r in several if r.table == table]
        if not rows:
            continue
        columns = COLUMNS[table]
        lines += [
            "",
            f"| ({table}) model | seed | " + " | ".join(f"`{c}`" for c in columns)
            + " | training mean | wall s (load) |",
            "|---|---|" + "---|" * (len(columns) + 2),
        ]  # fmt: skip
        for row in rows:
            for seed in sorted(
                set(groups.get(row.key, {})) | set(training.get(row.key, {}))
            ):
                res = groups.get(row.key, {}).get(seed)
                if res is None:
                    ours, cost = progress_cells(
                        training[row.key][seed], len(columns), generations
                    )
                    mean, mark = "-", ""
                else:
                    by_set = by_morphology(res)
                    ours = [result_cell(by_set.get(c)) for c in columns]
                    cost = cost_cell(res)
                    mean = f"{training_mean(res, table):.2f} m"
                    mark = " **best**" if best.get(row.key) == seed else ""
                lines.append(
                    f"| {row.label} | {seed}{mark} | " + " | ".join(ours)
                    + f" | {mean} | {cost} |"
                )  # fmt: skip
    claims = judge_claims_by_seed(results)
    if claims:
        lines += [
            "",
            "The claims whose rows have several seeds, on each row's best seed and on "
            "same-seed pairs (seed s of one row against seed s of the other), by the rule "
            "above:",
            "",
            "| claim | best seeds | evidence | same-seed pairs |",
            "|---|---|---|---|",
            *(
                f"| {c['claim']} | {c['verdict']} | {c['evidence']} | {c['same_seed']} |"
                for c in claims
            ),
        ]
    return lines
