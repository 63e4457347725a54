#!/usr/bin/env bash
# The README figures: each a PNG and the plotted data as JSON, written into docs/figures/.
#
# Maze figures: the paper's released DecPRNN(PostDN) genome (trained on 15x15 mazes, 3-rollout
# lifetimes). The 9x9 -> 15x15 OOD test needs a genome trained on 9x9 mazes: RUN9, a
# 'hebbjax train --task maze9' run (default: the repository's 1,000-generation table-1 run).
# Ant figures: ANT_RUN, a small ant run trained on 2 CPU cores (about 25 min of CPU), the one
# shown here:
#   hebbjax train --task ant-damage --model hebbian-ffn --model-opt 'hidden=[32,16]' \
#     --strategy najarro-es --task-opt backend=spring --task-opt seconds=5 \
#     --population 64 --generations 300 --tasks-per-gen 1 --validate-every 20 \
#     --n-validation 1 --validation-repeats 8 --checkpoint-every 10 --out runs/ant-small
# PART=maze or PART=ant makes one half only.
set -euo pipefail
OUT=${OUT:-docs/figures}
PART=${PART:-all}
G=paper:decprnn-postdn
# The figures here were made when hebbjax's defaults were the reference from July 2022 on
# (modulated scale 0.2, zero reward slot); these options make the same figures. GENOME_OPTS=""
# and TASK_OPTS="" make them under today's defaults, the April-2022 code of Table 1.
GENOME_OPTS=${GENOME_OPTS---model-opt modulated_scale=0.2}
TASK_OPTS=${TASK_OPTS---task-opt r_slot=zero}
RUN9=${RUN9:-benchmarks/results/reproduce/runs/decprnn-postdn}
ANT_RUN=${ANT_RUN:-runs/ant-small}
H="python -m hebbjax"
PAPER="DecPRNN(PostDN), paper genome"

if [ "$PART" != ant ]; then
  $H analyze rollouts --genome $G $GENOME_OPTS $TASK_OPTS --n-rollouts 3 8 --label "$PAPER" \
    --out "$OUT" --name-stem maze_rollouts
  $H analyze ood --run "$RUN9" --genome $G $GENOME_OPTS \
    --label "DecPRNN(PostDN), hebbjax maze9 run" --label "$PAPER" \
    --out "$OUT" --name-stem maze_ood
  # the paper's OOD claim is a comparison: three models trained here on 9x9 at one budget
  R=${RUNS:-benchmarks/results/reproduce/runs}
  $H analyze ood --run $R/decprnn-postdn --run $R/meta-rnn --run $R/meta-lstm \
    --label "DecPRNN(PostDN), 1,347 genes" --label "Meta-RNN(64), 5,445 genes" \
    --label "Meta-LSTM(64), 20,805 genes" --out "$OUT" --name-stem maze_ood_9to15_models \
    --title "Trained on 9x9 mazes here (1,000 generations x 128 x 8 mazes each), tested \
on 2,048 9x9 and 15x15 test mazes: return of each rollout"
  $H analyze trajectories --genome $G $GENOME_OPTS $TASK_OPTS --task maze9 --task maze15 --task maze21 \
    --n-tasks 2 --label "$PAPER" --out "$OUT" --name-stem maze_trajectories
  $H analyze trajectories --genome $G $GENOME_OPTS $TASK_OPTS --task maze15 --n-rollouts 8 --n-tasks 2 \
    --label "$PAPER" --out "$OUT" --name-stem maze_trajectories_8
  $H analyze memory --genome $G $GENOME_OPTS $TASK_OPTS --n-tasks 6 --every 4 --label "$PAPER" \
    --out "$OUT" --name-stem maze_memory_tsne
  $H analyze reset --genome $G $GENOME_OPTS $TASK_OPTS --label "$PAPER" --out "$OUT" --name-stem maze_memory_reset
fi

if [ "$PART" != maze ]; then
  # the run trained 5 s lifetimes (250 steps): the interventions are placed inside them
  L="Hebbian FFN (27-32-16-8), hebbjax ant-damage run"
  $H analyze distance --run "$ANT_RUN" --label "$L" --out "$OUT" --name-stem ant_distance
  $H analyze freeze --run "$ANT_RUN" --label "$L" --out "$OUT" --name-stem ant_freeze \
    --freeze-steps 0 20 40 60 80 120 160 250
  $H analyze actuators --run "$ANT_RUN" --label "$L" --start 100 --stop 150 \
    --out "$OUT" --name-stem ant_actuators
  $H analyze zeroing --run "$ANT_RUN" --label "$L" --at 100 --out "$OUT" \
    --name-stem ant_zeroing
  $H analyze attractors --run "$ANT_RUN" --label "$L" --random-baseline --out "$OUT" \
    --name-stem ant_attractors
  $H plot "$ANT_RUN" --out "$OUT" --name ant_learning_curves
fi
