"""The 9x9 hour's late-phase experiments of ``benchmarks/time_to_quality.py`` (issue 16: 0.78
within 60 minutes), from 2026-12-06 on: what holds the good seeds at +0.75 once the capped
phase has moved them to the explore-then-return region. The comments between entries are
the lab notebook, as in ``time_to_quality_experiments.py``."""

from __future__ import annotations

from typing import Any

from benchmarks.time_to_quality_setup import (
    MAZE9_HOUR,
    MAZE9_HOUR_R2R3,
    R2R3,
    exp,
    preset_run,
)


def seed4_branch(note: str, at: int, tasks, std=None, **fields) -> dict[str, Any]:
    """Seed 4's hour (the preset) branched at generation ``at`` (4,400: its end,
    maze9-hour-s4; 4,000: the start of its 256-maze phase, maze9-hour-s4-rerun), then
    ``tasks`` mazes a generation (or ``tasks`` as ``schedule_after``); ``std`` = (min,
    max) bounds the step size."""
    run = preset_run(MAZE9_HOUR) | fields
    if std is not None:
        run |= dict(strategy_kwargs={"std_min": std[0], "std_max": std[1]})
    return exp(
        **run,
        seed=4,
        note=note,
        branch_from={4400: "maze9-hour-s4", 4000: "maze9-hour-s4-rerun"}[at],
        branch_min_generation=at,
        schedule_after=((0, tasks),) if isinstance(tasks, int) else tasks,
    )


def r2r3_hour(seed: int, at: int = 4000, note: str | None = None) -> dict[str, Any]:
    """The 9x9 hour (the preset) of ``seed`` with the fitness (R2 + R3) / 2 in its
    256-maze phase (rollout 2 scored beside rollout 3), that phase from generation ``at``."""
    *capped, (_, *last) = MAZE9_HOUR_R2R3["schedule"]
    return exp(
        **preset_run(MAZE9_HOUR_R2R3) | dict(schedule=(*capped, (at, *last))),
        seed=seed,
        note=note
        or f"seed {seed}'s hour with fitness (R2 + R3) / 2 in its 256-maze phase",
    )


def r2r3_branch(
    seed: int, source: str, at: int, after, note: str, **fields
) -> dict[str, Any]:
    """The preset's (R2 + R3) / 2 hour on ``seed``'s keys, branched from run ``source``
    at generation ``at``, then the schedule ``after`` (generations counted from ``at``)."""
    return exp(
        **preset_run(MAZE9_HOUR_R2R3) | fields,
        seed=seed,
        note=note,
        branch_from=source,
        branch_min_generation=at,
        schedule_after=after,
    )


LATE_EXPERIMENTS: dict[str, dict[str, Any]] = {
    # Seed 4 (rollout 3 in 41 steps at generation 3,150, a short-path returner) ends at
    # test +0.759 +- 0.008 after 49.1 minutes alone: five seeds +0.495, +0.520, +0.749,
    # +0.759, +0.763. What the rest of its hour adds at 256 mazes
    "maze9-hour-s4-to60": seed4_branch(
        "seed 4's hour (4,400 generations, 49 minutes), then 256 mazes to 60 minutes",
        4400,
        256,
    ),
    # ... +0.003: test +0.762 +- 0.007. Seed 4's hour climbs from +0.51 to +0.75 on
    # validation in the first 150 generations at 256 mazes, then stays there (+0.746 at
    # 4,375). Its step size stays near 0.040 and
    # its population scores 0.03-0.04 below its mean (fitness_mean +0.71 against +0.75):
    # the search ranks the Gaussian-smoothed fitness around the mean, whose peak need not
    # be the mean's own. The rest of the hour with the step size held smaller
    **{
        f"maze9-hour-s4-std{std}": seed4_branch(
            f"seed 4's hour, then 256 mazes to 60 minutes, step size held at {std}",
            4400,
            256,
            std=(std, std),
        )
        for std in (0.02, 0.01)
    },
    # ... no lift: at 4,550 generations (26.7 M lifetimes, the hour's 60 minutes) test
    # +0.767 +- 0.007 (0.02) and +0.763 +- 0.007 (0.01), validation +0.756 and +0.767,
    # against the free step size's +0.762 and +0.768 (maze9-hour-s4-to60). On its plateau
    # the mean is at the top of a wide peak; a smaller step finds nothing higher near it.
    # Seed 4 again to generation 4,000 (the same run as maze9-hour-s4), for branches from
    # the start of its 256-maze phase
    "maze9-hour-s4-rerun": exp(
        **preset_run(MAZE9_HOUR),
        seed=4,
        note="maze9-hour-s4 again, for its checkpoints",
    ),
    # Why (fitness_noise_maze9-hour.md, 128 perturbations of the final mean on 256 mazes):
    # around seed 4's mean at sigma 0.04 the genomes' true fitness spreads by 0.023 (sd)
    # and one maze's noise is 0.367: a 256-maze ranking is half signal (n_half 249); at
    # 0.02 the spread is not measurable (n_half inf), so a smaller step stops the search.
    # The 256-maze phase ends where a ranking on 256 mazes stops telling the genomes
    # apart. The same lifetimes as more search directions on fewer mazes each: for a
    # linear fitness the search direction's cosine with the gradient goes as
    # sqrt(P) rho(n), rho(n) = sd / sqrt(sd^2 + noise^2 / n): 8.0 for 128 x 256, 10.7 for
    # 1,024 x 32 (for a noisy fitness a larger population beats re-evaluation, Arnold &
    # Beyer 2006); the step size free, as in the preset
    "maze9-hour-s4-p1024-from4000": seed4_branch(
        "seed 4's hour with 1,024 genomes x 32 mazes from generation 4,000",
        4000,
        32,
        population=1024,
    ),
    # ... behind from the start and no higher later: validation +0.645 / +0.717 / +0.734 /
    # +0.720 at 4,050 / 4,125 / 4,200 / 4,225 (the 128 x 256 phase: +0.688 / +0.715 /
    # +0.748 / +0.741); stopped there (16.1 M lifetimes). Its step size grew from 0.038 to
    # 0.080 in 225 generations (with 512 parents consecutive steps agree and CSA lengthens
    # them), and the population paid for it: mean fitness +0.50 over 4,100-4,224 against
    # the 128-genome phase's +0.69 (the fitness around the mean falls fast with the step).
    # The same population with the step size held at most 0.04, the 128-genome phase's
    "maze9-hour-s4-p1024-smax0.04": seed4_branch(
        "seed 4's hour with 1,024 genomes x 32 mazes from 4,000, step size <= 0.04",
        4000,
        32,
        std=(0.02, 0.04),
        population=1024,
    ),
    # ... behind throughout: validation +0.630 / +0.658 / +0.694 / +0.742 / +0.726 at
    # 4,050 / 4,100 / 4,150 / 4,200 / 4,250 (128 x 256: +0.688 / +0.717 / +0.732 / +0.748 /
    # +0.747); stopped at 4,250 (16.9 M lifetimes). Per lifetime, 256 mazes a ranking
    # climb faster than 8x the directions on 32. A guess, not measured: a ranking on 32
    # mazes turns on which genomes happened to fail one of the few hard ones (a failure
    # costs 2.8 against a success; the noise is far from the Gaussian the estimate took).
    # The other way, then (2026-12-07, night): half the directions on twice the mazes,
    # 64 genomes x 512 mazes from 4,000 (the same 32,768 lifetimes a generation; sep-CMA-ES
    # takes its rates from the population: 32 parents instead of 64)
    "maze9-hour-s4-p64-from4000": seed4_branch(
        "seed 4's hour with 64 genomes x 512 mazes from generation 4,000",
        4000,
        512,
        population=64,
    ),
    # The same on the preset's own late phase ((R2 + R3) / 2), seed 1: its hour again to
    # generation 4,000 (maze9-hour-s1-r2r3's first 4,000 generations), then 64 x 512
    "maze9-hour-s1-r2r3-rerun": r2r3_hour(
        1, note="maze9-hour-s1-r2r3 again, for its checkpoint at 4,000"
    ),
    "maze9-hour-s1-r2r3-p64-from4000": r2r3_branch(
        1,
        "maze9-hour-s1-r2r3-rerun",
        4000,
        ((0, 512, R2R3),),
        "seed 1's (R2 + R3) / 2 hour with 64 genomes x 512 mazes from 4,000",
        population=64,
    ),
    # The rest of seed 4's hour (4,400 -> 26.7 M lifetimes) on 1,024 mazes a generation:
    # four times the lifetimes per ranking, for a plateau where 256 are half signal (seed 1
    # of the within-40 hour: +0.771 on validation 45 generations after 256 -> 1,024 mazes)
    "maze9-hour-s4-then-n1024": seed4_branch(
        "seed 4's hour (4,400 generations), then 1,024 mazes to 60 minutes",
        4400,
        1024,
        validate_every=5,
    ),
    # ... no lift either: validation +0.755 / +0.777 / +0.771 / +0.762 / +0.757 / +0.771 /
    # +0.755 at 4,405-4,435, test +0.763 +- 0.007 at 4,440 (27.2 M lifetimes; 256 mazes:
    # +0.762, the step size held at 0.02 / 0.01: +0.767 / +0.763). Seed 4 ends near +0.765
    # on test however its last 5 M lifetimes are spent.
    # The 256-maze phase from generation 4,000 until seed 4's climb levels (150 generations),
    # then 1,024 mazes to the hour's 21.8 M lifetimes (about 62 generations)
    "maze9-hour-s4-n256-then-n1024": seed4_branch(
        "seed 4's hour: 256 mazes from 4,000, 1,024 from 4,150, to 21.8 M lifetimes",
        4000,
        ((0, 256), (150, 1024)),
        validate_every=5,
    ),
    # ... lower: validation +0.737 on average over 4,155-4,210 (the 256-maze phase's own
    # over 4,250-4,375: +0.747), test +0.743 +- 0.009 at 4,215 (22.1 M lifetimes; the
    # preset at 4,400, 21.8 M: +0.759 +- 0.008). 65 generations on 1,024 mazes gain less
    # than 250 on 256: the preset keeps its 256-maze end.
    # Averaging the mean over the plateau (mean_averaging.md, the older hour) is no lift on
    # this one either: seed 2's hour continued 150 generations at 256 mazes (a throwaway
    # script doing what benchmarks/mean_averaging.py does, 2026-12-07), test of the
    # single means +0.764 to +0.776, of the averages of the last 25 / 50 / 100 / 150
    # +0.772 / +0.769 / +0.766 / +0.777 (the last single mean +0.775).
    # What the 256-maze phase still loses is mostly returns: of the within-40 seed 1's 23
    # third-rollout failures on the test mazes 19 follow a rollout that found the goal
    # (failures_hour.md). The third rollout returns once per lifetime; the second returns
    # too whenever the first found the goal (64% of the mazes), and is stepped anyway.
    # Scored too, it adds about two thirds more returns to every ranking at no cost: the
    # 256-maze phase on (R2 + R3) / 2 (validation and test still score rollout 3)
    "maze9-hour-s4-r2r3-from4000": seed4_branch(
        "seed 4's hour with fitness (R2 + R3) / 2 in its 256-maze phase (from 4,000)",
        4000,
        ((0, 256, R2R3),),
    ),
    # ... level with the preset, on 24-26% fewer agent-steps a generation: rollout 1 finds
    # the goal faster (validation rollout 1 -0.86 -> -0.10 to -0.25 over 4,200-4,375;
    # rollout 2 pays for what rollout 1 found). Test at 4,400 (21.8 M lifetimes) +0.761 +-
    # 0.007 (the preset +0.759 +- 0.008), rollout-1 goal rate 0.87 (0.59), rollout 3's 0.992
    # (0.991). Its 256-maze phase is 21 minutes where the preset's took 29 (estimated
    # alone: the preset's own seconds per agent-step there, 5.8e-7). Continued to 32.5 M
    # lifetimes (4,750 generations, about 59 minutes by that estimate): test +0.766 +-
    # 0.006, validation +0.768 +- 0.009 (the preset's fitness at 4,550, 26.7 M: +0.762).
    # On the 15x15 test mazes as it is the faster explorer is no better a start: -0.270 +-
    # 0.025 against the preset's -0.160 +- 0.025 (rollout-1 goal rate 0.47 against 0.23,
    # rollout 3's 0.72 against 0.75). Seed 2's hour with the same 256-maze phase
    # (its first 4,000 generations are maze9-hour-s2-cap25's), run past the preset's
    # 4,400 generations to the lifetimes that fill about 60 minutes at the cheaper rate
    "maze9-hour-s2-r2r3": r2r3_hour(2),
    # ... its first 4,000 generations those of maze9-hour-s2-cap25 (160 validations and step
    # sizes equal), then level with it (validation +0.753 / +0.757 / +0.769 at
    # 4,275 / 4,350 / 4,375 against +0.751 / +0.744 / +0.740) on 15% fewer agent-steps a
    # generation (median 5.26 M against 6.19 M over 4,160-4,399; 3.37 s a generation
    # alone). Stopped at 4,550 (26.7 M lifetimes) to compare with the paper's fitness
    # there (seed 2's own run continued, above: test +0.775):
    # test +0.783 +- 0.006, validation +0.749 +- 0.012 (in-run validations over
    # 4,400-4,550: +0.751 to +0.769); continued to 4,750 (33.3 M lifetimes): test +0.770 +-
    # 0.007, validation +0.771 +- 0.010. Two seeds: the same scores, 15-26% fewer
    # agent-steps in the 256-maze phase. A generation around seed 4's final genomes, side
    # by side and alone (one device, two alternating rounds of 15): 8.54 / 8.00 s on the
    # paper's fitness (4,550) against 6.00 / 5.63 s on (R2 + R3) / 2 (4,750): 0.70x.
    # A third seed, from scratch to the lifetimes of 4,750 generations (about 60 minutes
    # at the cheaper rate), alone
    "maze9-hour-s1-r2r3": r2r3_hour(1),
    # ... its first 4,000 generations maze9-hour-s1-cap25's (training fitness equal at all
    # 4,000), then ahead of it (validation +0.750 against +0.731 at 4,375; rollout 1 +0.11
    # against -0.26): 4,750 generations in 56.5 minutes alone (generation 4,000 at 19.4,
    # 4,400 at 39.6), test +0.776 +- 0.006, validation +0.775 +- 0.008 (its paper-fitness
    # self at 4,400: +0.749 / +0.742). Seed 2 continued to 4,750 (above): test +0.770 +-
    # 0.007, validation +0.771 +- 0.010. Three seeds at 4,750: test +0.766, +0.770, +0.776,
    # validation +0.768, +0.771, +0.775: the 9x9 ``--preset hour`` from 2026-12-07
    # (MAZE9_HOUR_R2R3).
    # A long-path returner (seed 0: test +0.520 under the preset to 2026-12-07)
    "maze9-hour-s0-r2r3": r2r3_hour(0),
    # ... its first 4,000 generations maze9-hour-s0-cap25's (training fitness equal), then
    # level with it (validation +0.456 against +0.469 at 4,150): test +0.550 +- 0.014,
    # validation +0.506 +- 0.023 at 4,750 (its paper-fitness self +0.520 / +0.459 at
    # 4,400); rollout 3 reaches the goal in 95% of the test mazes. Its lifetimes are longer:
    # the 256-maze phase took 46.1 minutes alone (seed 1's 37.1), about 65 in all.
    # Seed 1's preset climbs +0.49 -> +0.66 in its first 125 generations at 256 mazes (4.1 M
    # lifetimes, about 6 minutes) where its last 500 capped generations at 32 mazes add
    # about +0.1 (2 M lifetimes, about 4 minutes): the 256-maze phase from 3,500, to the
    # lifetimes of the hour (32.9 M at 4,300 generations against 33.3 M at 4,750)
    "maze9-hour-s1-r2r3-256at3500": r2r3_hour(
        1, 3500, "seed 1's (R2 + R3) / 2 hour with its 256-maze phase from 3,500"
    ),
    # ... its first 3,500 generations seed 1's preset run's (equal); ahead early (validation
    # +0.515 at 3,550, 8.3 M lifetimes, against the preset's +0.490 at 4,000, 8.7 M; +0.680
    # against +0.619 at 12 M), level from 15 M (+0.710 / +0.745 / +0.740 at 15.7 / 19.8 /
    # 21.4 M, the preset +0.705 / +0.732 / +0.750). At 4,300 generations (32.9 M
    # lifetimes; resumed once, shared with other runs: 55.2 minutes alone estimated at seed
    # 1's own seconds per agent-step in the 256-maze phase) test +0.764 +- 0.007,
    # validation +0.775 +- 0.007 (the preset at 4,750: +0.776 / +0.775). No lift: the
    # preset keeps its 256-maze phase from 4,000.
    # The default seed (0) is a long-path returner under the preset (test +0.550), as seed 3
    # was. Is that settled by generation 1,500, where the 25-step cap starts (seed 0's
    # validation there is seed 1's: -0.13 / -0.09, rollout 3 in 86 / 84 steps), or drawn
    # while the cap holds (by 2,500 the short-path seeds' rollout 3 takes 58-62 steps, the
    # long-path ones' 74-96)? Seed 0's preset run again to 1,500 (run with --lifetimes
    # 1.53e6), then the rest of the preset from its checkpoint on other keys (a run's keys
    # are its seed's, folded with the generation): if the forks part, a run can draw its
    # region twice for the cost of generations 1,500-2,500 and keep the better
    "maze9-hour-s0-r2r3-to1500": r2r3_hour(0, note="seed 0's preset run, to 1,500"),
    **{
        f"maze9-hour-s0-fork1500-k{k}": r2r3_branch(
            k,
            "maze9-hour-s0-r2r3-to1500",
            1500,
            tuple((g - 1500, *rest) for g, *rest in MAZE9_HOUR_R2R3["schedule"][1:]),
            f"seed 0's preset run from its generation 1,500 on seed {k}'s keys",
        )
        for k in (100, 101, 102)
    },
    # ... the region is settled by 1,500: seed 0's run again gives its 1,500 generations
    # (validation -0.129 at 1,500 as before), and all three forks stay long-path returners,
    # below the run's own draw: validation at 2,400 -0.149 / -0.173 / -0.094 (rollout 3 in
    # 84 / 87 / 82 steps) against the run's own +0.119 (70 steps) and the short-path seeds'
    # +0.140 / +0.283 (65 / 57). No second draw of the region after the cap starts, then;
    # the forks stopped at 2,400-2,425 (3.5 M lifetimes).
    # A larger population searches more globally on a multimodal landscape (IPOP-CMA-ES
    # grows it on each restart, Auger & Hansen 2005) and, at equal lifetimes, ranks a noisy
    # fitness better than more mazes per genome (Arnold & Beyer 2006). The preset's
    # lifetimes a generation as 256 genomes x half the mazes, on the two long-path seeds
    # (0 and 3), to generation 3,000 (their rollout 3 at 2,500: 74 and 92 steps; the
    # short-path seeds' 58-62)
    **{
        f"maze9-hour-s{seed}-p256": exp(
            **preset_run(MAZE9_HOUR_R2R3)
            | dict(
                schedule=tuple(
                    (g, n // 2, *rest) for g, n, *rest in MAZE9_HOUR_R2R3["schedule"]
                )
            ),
            population=256,
            seed=seed,
            note=f"seed {seed}'s (R2 + R3) / 2 hour with 256 genomes x half the mazes",
        )
        for seed in (0, 3)
    },
    # ... slower from the start: seed 0's validation -1.17 / -0.91 / -0.80 at 500 / 1,000 /
    # 1,475 (the preset's -0.97 / -0.28 / -0.13 at the same lifetimes); 4 mazes a genome
    # rank too noisily for the 40-step cap's first climb. Stopped at 1,475 (1.5 M
    # lifetimes), seed 3 not started: a schedule this far behind cannot serve the hour,
    # whatever region it ends in.
    # So the region is drawn before 1,500 and shows on validation by 2,000 (eight runs:
    # long-path -0.32 to -0.08, short-path +0.03 to +0.45; ten with seeds 5 and 6 below): the 9x9 ``--preset hour`` from
    # 2026-12-07 runs two starts to 2,000 and keeps the better (``hebbjax.evolution.starts``,
    # ``--starts 2 --select-at 2000``), to 4,600 generations. Measured as a user runs it, the
    # default seed (results/time_to_quality/hour9_cli.md): start 1 kept (+0.053 against
    # -0.080), test +0.768 +- 0.006, validation +0.758 +- 0.009, 53.6 minutes; its metrics
    # are maze9-hour-s1-r2r3's bit for bit.
    # Two new draws, to 3,000 (where the kinds are plain: rollout 3 in 58-62 steps at 2,500
    # for the short-path seeds, 74-96 for the long-path ones): does the validation at 2,000
    # call them right? Run with --lifetimes 4.6e6
    **{f"maze9-hour-s{seed}-r2r3": r2r3_hour(seed) for seed in (5, 6)},
    # ... both short-path, as their validation at 2,000 says (+0.100 and +0.515; seed 3
    # under the preset, maze9-hour-s3-cap25: -0.284): rollout 3 at 2,500 in 50 and 42 steps,
    # validation +0.476 / +0.511 at 2,975 (test +0.445 / +0.563 there; 4.6 M lifetimes, 19
    # and 17 minutes side by side). Seven seeds: 0 and 3 long-path.
    # Scored precisely (8 lifetimes on each of the 1,024 validation and 2,048 test mazes,
    # s.e. 0.002-0.003, where one lifetime a maze gives 0.006-0.009: precise.md), the
    # preset's finals differ by less than one-lifetime scores can tell: seed 1 at 4,750
    # validation +0.762 / test +0.775, seed 2 +0.778 / +0.782, seed 4 +0.772 / +0.771; and
    # the within-40 hour's seed 1 at 4,410 (+0.765 / +0.780) rose to +0.782 / +0.783 in 46
    # generations at 1,024 mazes (maze9-s1-n256-then-n1024). Does a ranking on 1,024 mazes
    # lift the preset's plateau, or would any 6.5 M more lifetimes? Seed 1's preset run
    # from its end, 50 generations at 1,024 mazes against 200 at 256 (equal lifetimes),
    # both on (R2 + R3) / 2; run with --lifetimes 3.9866368e7
    **{
        f"maze9-hour-s1-r2r3-then-n{n}": r2r3_branch(
            1,
            "maze9-hour-s1-r2r3",
            4750,
            ((0, n, R2R3),),
            f"seed 1's preset run from 4,750, then {n} mazes a generation",
        )
        for n in (1024, 256)
    },
    # ... both climb, alike (precise.md, paired on the same mazes and keys): 1,024 mazes
    # (75 generations to the checkpoint past the budget, 9.8 M lifetimes, 4,825) validation
    # +0.762 -> +0.777, test +0.775 -> +0.781 (paired +0.015 +- 0.005 / +0.005 +- 0.003);
    # 256 mazes (225 generations, 7.4 M, 4,975) +0.774 / +0.779 (+0.012 +- 0.006 / +0.004
    # +- 0.004); 1,024 against 256: +0.003 +- 0.005 / +0.002 +- 0.004. The plateau still
    # climbs about +0.01 per 8 M lifetimes at 33 M (about 14 minutes of 256-maze
    # generations alone), whatever the mazes a generation: not within the hour.
    # Seed 2's preset run (precisely +0.778 / +0.782 at 4,750, 33.3 M lifetimes, about 60
    # minutes alone) on at 256 mazes for 150 generations (4.9 M lifetimes): how soon past
    # the hour its validation is at 0.78; run with --lifetimes 3.8227968e7
    "maze9-hour-s2-r2r3-then-n256": r2r3_branch(
        2,
        "maze9-hour-s2-r2r3",
        4750,
        ((0, 256, R2R3),),
        "seed 2's preset run from 4,750, then 256 mazes a generation",
    ),
    # ... level (175 generations, 5.7 M lifetimes, to the checkpoint past the budget:
    # 4,925): validation +0.782, test +0.776 (paired +0.003 +- 0.006 / -0.005 +- 0.004).
    # Seed 2 sits at +0.78 from 4,750 on; seed 1 climbs to it by 4,825-4,975.
}
