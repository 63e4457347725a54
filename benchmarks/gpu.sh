#!/usr/bin/env bash
# hebbjax on a GPU machine: throughput at populations 1,024-65,536, the paper-preset
# generation, and agreement of one lifetime with the CPU. Results: benchmarks/results/gpu/.
#   bash benchmarks/gpu.sh           (needs JAX with CUDA: pip install -U "jax[cuda12]")
#   bash benchmarks/gpu.sh --quick   (a smoke test; runs on a CPU too)
#   bash benchmarks/gpu.sh --train-minutes 4   (also: --preset hour at population 1,024 x 32
#                                               mazes for 4 minutes, and its test score)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
"$PY" -c "import jax; print('backend', jax.default_backend(), jax.devices())"
exec "$PY" -m benchmarks.gpu "$@"
