"""Plain-numpy, one-individual-at-a-time CPU baseline of the DecPRNN maze inner loop.

This is the "CPU baseline" that hebbjax is compared against. It re-implements, from the
project spec ``shared/spec/maze-decprnn-eprnn.md`` (sections 1, 2 and 5), the inner loop
of the original numpy code of

    Wang, Chen, Wu, Li, Wang (2022), "Evolving Decomposed Plasticity Rules for
    Information-Bottlenecked Meta-Learning" (DecPRNN; reference code
    github.com/WorldEditors/EvolvingPlasticANN, Apache-2.0),

in the same execution style: one lifetime at a time, one step at a time in Python,
with numpy matrix-vector products, the plastic update as elementwise operations on full
matrices, the stochastic action head and the MetaMaze2D step. No reference code is
copied.

Models (spec section 1):

* ``decprnn-postdn``: h_t = tanh(W_h h_{t-1} + W_x x_t + b), plastic W_h (64x64) and
  W_x (64x15) updated by the type-3 decomposed rule
  H = A*(q p^T) + B*(q 1^T) + C*(1 p^T) + D, with A = a_y a_x^T etc. formed once per
  reset; PostDN modulators [mu_h, mu_x] = sigmoid(W_M h_t + b_M);
  W <- W + scale*mu*H, scale = 0.20 (EPA from July 2022; 1.0 for the April-2022 code).
* ``prnn-postdn``: same network with the type-1 full-ABCD rule,
  W <- W + mu * 0.05 * (A*(q p^T) + B*(q 1^T) + C*(1 p^T) + D), A..D full evolved
  matrices. N_Gene 20,743.
* ``meta-lstm``: z = W [x_t; h_{t-1}] + b split into (g, i, f, o);
  c_t = sigmoid(f) c + sigmoid(i) tanh(g); h_t = sigmoid(o) tanh(c_t). N_Gene 20,805.

All three have a linear output out = W_o h_t + b_o in R^5. Step order: h_t from the
current weights, modulators from h_t, output, then the plastic update
(pre = h_{t-1} for W_h, x_t for W_x; post = h_t). Plastic matrices and the hidden state
are zero at the start of each lifetime and persist across its rollouts.

Action head (spec 1.5): p_greedy = 0.5 tanh(out[4]) + 0.5; u ~ U(0,1); if
u < p_greedy take argmax(out[:4]) (first index on ties), else sample softmax(out[:4]).
``greedy=True`` always takes the argmax. The softmax subtracts the max before
exponentiating (the original does not); the probabilities are identical, this only
avoids overflow warnings.

Maze (spec 2.3-2.6, MetaMaze2D as of the paper era): observation is the 3x3 window
obs[i][j] = G[x-1+i][y-1+j] with wall = +1, free = 0, goal = -1, flattened C order;
actions 0..3 move by (-1,0), (+1,0), (0,-1), (0,+1) unless the target is a wall; reward
-0.01 per step and +1 on entering the goal; an episode ends at the goal or after 200
steps. Network input x = [obs(9), onehot(a_prev)(4), 0, 0], with a uniformly random
a_prev at the start of every rollout. Lifetime = n_rollouts episodes on one maze;
fitness = sum_r w_r (R_r - 1e-6 RMS(genome)) / sum_r w_r with w = (0, 0, 1).

Genomes use the reference flat layout: tensors in lexicographically sorted name order,
each flattened in C order (see ``LAYOUTS`` and ``layout``). By default everything is
float32, as in hebbjax (spec pitfall 12). The original keeps the genome and plastic
matrices in float32 but its hidden state becomes float64 after the first step, which
makes every per-step temporary float64; ``reference_dtypes=True`` (CLI
``--reference-dtypes``) reproduces that by feeding a float64 input vector. It changes
the numbers only at the float32 rounding level but roughly halves the throughput.

The reference measured 6,500-7,000 env steps/s on one core for DecPRNN(PostDN) with a
random genome (spec 5.3); this re-implementation is faster per step than the original
(less Python overhead per step), so it is a stricter CPU bar. CLI::

    python -m benchmarks.numpy_baseline --model decprnn-postdn --lifetimes 50
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

H = 64  # hidden size
M = 15  # input size: 9 obs + 4 one-hot previous action + reward slot + done slot
N_OUT = 5  # outputs: 4 action logits + exploit gate
MAX_STEPS = 200
STEP_REWARD = -0.01
GOAL_REWARD = 1.0
INIT_SCALE = 0.05
DEC_SCALE = (
    0.20  # modulated decomposed-rule scale (EPA from 2022-07-02); 1.0 = April 2022
)
FULL_ABCD_SCALE = 0.05  # type-1 rule scale
GENOME_PENALTY = 1e-6  # fitness penalty factor on RMS(genome)
ACTION_DELTAS = ((-1, 0), (1, 0), (0, -1), (0, 1))
MODELS = ("decprnn-postdn", "prnn-postdn", "meta-lstm")

_REPO = Path(__file__).resolve().parents[1]
FIXTURES = _REPO / "src" / "hebbjax" / "data"  # the packaged paper files
MAZE_FILE = FIXTURES / "maze15_paper_validation.npz"
PAPER_GENOME_FILE = FIXTURES / "decprnn_postdn_paper_genome.npy"


def _decomposed_vectors(prefix: str, n_out: int, n_in: int) -> dict:
    """a_x, a_y, ..., d_y of one type-3 plastic matrix (x = pre side, y = post side)."""
    out = {}
    for letter in "ABCD":
        out[f"{prefix}//W_{letter}x"] = (n_in,)
        out[f"{prefix}//W_{letter}y"] = (n_out,)
    return out


def _full_abcd(prefix: str, n_out: int, n_in: int) -> dict:
    """Full evolved A, B, C, D matrices (n_out, n_in) of one type-1 plastic matrix."""
    return {f"{prefix}/{letter}": (n_out, n_in) for letter in "ABCD"}


# Tensor name -> shape. The flat genome concatenates them in sorted(name) order.
# decprnn-postdn names are those of the reference checkpoint; prnn-postdn and meta-lstm
# use the names of hebbjax's model registry (hebbian_h = W_h rule, hebbian_x = W_x rule;
# LSTM_1/fc/W acts on [x_t; h_{t-1}] and its 4h rows are the chunks g, i, f, o in that
# order; the output layer of the non-plastic models is FC_2), so a flat genome means the
# same tensors here and in ``hebbjax.models.genome_io.from_epann_flat``.
LAYOUTS: dict[str, dict[str, tuple[int, ...]]] = {
    "decprnn-postdn": {
        "FC_1/W": (N_OUT, H),
        "FC_1/b": (N_OUT,),
        "FC_M/W": (2, H),
        "FC_M/b": (2,),
        "PRNN_1//b": (H,),
        **_decomposed_vectors("PRNN_1/hebbian_h", H, H),
        **_decomposed_vectors("PRNN_1/hebbian_x", H, M),
    },
    "prnn-postdn": {
        "FC_1/W": (N_OUT, H),
        "FC_1/b": (N_OUT,),
        "FC_M/W": (2, H),
        "FC_M/b": (2,),
        "PRNN_1//b": (H,),
        **_full_abcd("PRNN_1/hebbian_h", H, H),
        **_full_abcd("PRNN_1/hebbian_x", H, M),
    },
    "meta-lstm": {
        "FC_2/W": (N_OUT, H),
        "FC_2/b": (N_OUT,),
        "LSTM_1/fc/W": (4 * H, M + H),
        "LSTM_1/fc/b": (4 * H,),
    },
}


def layout(model: str) -> list[tuple[str, tuple[int, ...], int, int]]:
    """(name, shape, start, stop) of every tensor of ``model`` in flat-genome order."""
    shapes = LAYOUTS[model]
    rows, pos = [], 0
    for name in sorted(shapes):
        size = int(np.prod(shapes[name]))
        rows.append((name, shapes[name], pos, pos + size))
        pos += size
    return rows


def n_gene(model: str) -> int:
    """Length of the flat genome of ``model``."""
    return layout(model)[-1][3]


def unflatten(model: str, genome: np.ndarray) -> dict[str, np.ndarray]:
    """Split a flat genome into its named float32 tensors (C order)."""
    genome = np.asarray(genome, dtype=np.float32)
    if genome.shape != (n_gene(model),):
        raise ValueError(
            f"{model} genome must have shape ({n_gene(model)},), got {genome.shape}"
        )
    return {name: genome[a:b].reshape(shape) for name, shape, a, b in layout(model)}


def random_genome(model: str, rng: np.random.Generator) -> np.ndarray:
    """A genome drawn i.i.d. N(0, 0.05^2), the reference's init (spec 1.1), float32."""
    return (INIT_SCALE * rng.standard_normal(n_gene(model))).astype(np.float32)


def _sigmoid(z):
    return 0.5 * (np.tanh(0.5 * z) + 1.0)


class DecPRNNPostDN:
    """DecPRNN with PostDN modulation and the type-3 decomposed plasticity rule."""

    def __init__(self, genome: np.ndarray, scale: float = DEC_SCALE):
        p = unflatten("decprnn-postdn", genome)
        self.W_o, self.b_o = p["FC_1/W"], p["FC_1/b"]
        self.W_M, self.b_M = p["FC_M/W"], p["FC_M/b"]
        self.b = p["PRNN_1//b"]
        self.vec_h = [
            (p[f"PRNN_1/hebbian_h//W_{k}y"], p[f"PRNN_1/hebbian_h//W_{k}x"])
            for k in "ABCD"
        ]
        self.vec_x = [
            (p[f"PRNN_1/hebbian_x//W_{k}y"], p[f"PRNN_1/hebbian_x//W_{k}x"])
            for k in "ABCD"
        ]
        self.scale = np.float32(scale)

    def reset(self) -> None:
        # The reference forms A..D = y x^T once per reset (spec 1.3) and zeroes W, h.
        self.A_h, self.B_h, self.C_h, self.D_h = (np.outer(y, x) for y, x in self.vec_h)
        self.A_x, self.B_x, self.C_x, self.D_x = (np.outer(y, x) for y, x in self.vec_x)
        self.W_h = np.zeros((H, H), np.float32)
        self.W_x = np.zeros((H, M), np.float32)
        self.h = np.zeros(H, np.float32)

    def step(self, x: np.ndarray) -> np.ndarray:
        h_prev = self.h
        h = np.tanh(self.W_h @ h_prev + self.W_x @ x + self.b)
        mu = _sigmoid(self.W_M @ h + self.b_M)
        out = self.W_o @ h + self.b_o
        q = h[:, None]
        # W <- W + scale * mu * (A*(q p^T) + B*(q 1^T) + C*(1 p^T) + D)
        self.W_h += (self.scale * mu[0]) * (
            self.A_h * np.outer(h, h_prev) + self.B_h * q + self.C_h * h_prev + self.D_h
        )
        self.W_x += (self.scale * mu[1]) * (
            self.A_x * np.outer(h, x) + self.B_x * q + self.C_x * x + self.D_x
        )
        self.h = h
        return out


class PRNNPostDN:
    """PRNN with PostDN modulation and the type-1 full-ABCD plasticity rule."""

    def __init__(self, genome: np.ndarray):
        p = unflatten("prnn-postdn", genome)
        self.W_o, self.b_o = p["FC_1/W"], p["FC_1/b"]
        self.W_M, self.b_M = p["FC_M/W"], p["FC_M/b"]
        self.b = p["PRNN_1//b"]
        self.A_h, self.B_h, self.C_h, self.D_h = (
            p[f"PRNN_1/hebbian_h/{k}"] for k in "ABCD"
        )
        self.A_x, self.B_x, self.C_x, self.D_x = (
            p[f"PRNN_1/hebbian_x/{k}"] for k in "ABCD"
        )
        self.scale = np.float32(FULL_ABCD_SCALE)

    def reset(self) -> None:
        self.W_h = np.zeros((H, H), np.float32)
        self.W_x = np.zeros((H, M), np.float32)
        self.h = np.zeros(H, np.float32)

    def step(self, x: np.ndarray) -> np.ndarray:
        h_prev = self.h
        h = np.tanh(self.W_h @ h_prev + self.W_x @ x + self.b)
        mu = _sigmoid(self.W_M @ h + self.b_M)
        out = self.W_o @ h + self.b_o
        q = h[:, None]
        # W <- W + mu * 0.05 * (A*(q p^T) + B*(q 1^T) + C*(1 p^T) + D)
        self.W_h += mu[0] * (
            self.scale
            * (
                self.A_h * np.outer(h, h_prev)
                + self.B_h * q
                + self.C_h * h_prev
                + self.D_h
            )
        )
        self.W_x += mu[1] * (
            self.scale
            * (self.A_x * np.outer(h, x) + self.B_x * q + self.C_x * x + self.D_x)
        )
        self.h = h
        return out


class MetaLSTM:
    """Meta-LSTM(64): non-plastic LSTM on [x_t; h_{t-1}], gate chunks (g, i, f, o)."""

    def __init__(self, genome: np.ndarray):
        p = unflatten("meta-lstm", genome)
        self.W_o, self.b_o = p["FC_2/W"], p["FC_2/b"]
        self.W, self.b = p["LSTM_1/fc/W"], p["LSTM_1/fc/b"]

    def reset(self) -> None:
        self.h = np.zeros(H, np.float32)
        self.c = np.zeros(H, np.float32)

    def step(self, x: np.ndarray) -> np.ndarray:
        z = self.W @ np.concatenate((x, self.h)) + self.b
        g, i, f, o = z[:H], z[H : 2 * H], z[2 * H : 3 * H], z[3 * H :]
        self.c = _sigmoid(f) * self.c + _sigmoid(i) * np.tanh(g)
        self.h = _sigmoid(o) * np.tanh(self.c)
        return self.W_o @ self.h + self.b_o


def build_model(model_name: str, genome: np.ndarray, dec_scale: float = DEC_SCALE):
    """Model object with ``reset()`` and ``step(x) -> out``, from a flat genome."""
    if model_name == "decprnn-postdn":
        return DecPRNNPostDN(genome, scale=dec_scale)
    if model_name == "prnn-postdn":
        return PRNNPostDN(genome)
    if model_name == "meta-lstm":
        return MetaLSTM(genome)
    raise ValueError(f"unknown model {model_name!r}; choose from {MODELS}")


def select_action(
    out: np.ndarray, rng: np.random.Generator | None, greedy: bool
) -> int:
    """Spec 1.5: exploit gate p_greedy = 0.5 tanh(out[4]) + 0.5, else softmax sample."""
    logits = out[:4]
    if greedy:
        return int(np.argmax(logits))
    p_greedy = 0.5 * np.tanh(out[4]) + 0.5
    if rng.random() < p_greedy:
        return int(np.argmax(logits))
    e = np.exp(logits - logits.max())
    cdf = np.cumsum(e / e.sum())
    return int(min(np.searchsorted(cdf, rng.random(), side="right"), 3))


class Maze2D:
    """MetaMaze2D (paper-era MetaGym): 3x3 egocentric view, wall +1, free 0, goal -1."""

    def __init__(self, walls: np.ndarray, start, goal):
        walls = np.asarray(walls)
        self.grid = walls.astype(np.float32)
        self.start = (int(start[0]), int(start[1]))
        self.goal = (int(goal[0]), int(goal[1]))
        self.grid[self.goal] = -1.0

    def reset(self) -> np.ndarray:
        self.x, self.y = self.start
        self.t = 0
        return self.observe()

    def observe(self) -> np.ndarray:
        x, y = self.x, self.y
        return self.grid[x - 1 : x + 2, y - 1 : y + 2].ravel()

    def step(self, action: int):
        """Returns (obs, reward, done, reached_goal)."""
        dx, dy = ACTION_DELTAS[action]
        nx, ny = self.x + dx, self.y + dy
        if self.grid[nx, ny] < 1.0:
            self.x, self.y = nx, ny
        self.t += 1
        reward = STEP_REWARD
        reached = (self.x, self.y) == self.goal
        if reached:
            reward += GOAL_REWARD
        done = reached or self.t >= MAX_STEPS
        return self.observe(), reward, done, reached


def default_rollout_weights(n_rollouts: int) -> tuple[float, ...]:
    """(0, 0, 1) for 3 rollouts, the code's 8-rollout list for 8, else last one only."""
    if n_rollouts == 8:
        return (0.0, 0.0, 0.16, 0.22, 0.36, 0.64, 0.8, 1.0)
    return (0.0,) * (n_rollouts - 1) + (1.0,)


def run_lifetime(
    model_name: str,
    flat_genome: np.ndarray,
    walls: np.ndarray,
    start,
    goal,
    rng: np.random.Generator | None,
    greedy: bool = False,
    first_actions: Sequence[int] | None = None,
    n_rollouts: int = 3,
    *,
    dec_scale: float = DEC_SCALE,
    rollout_weights: Sequence[float] | None = None,
    reference_dtypes: bool = False,
) -> dict:
    """Run one lifetime (``n_rollouts`` episodes on one maze, memory kept throughout).

    ``first_actions`` gives the a_prev fed at the first step of each rollout; by default
    it is drawn uniformly from ``rng`` at each rollout start. With ``greedy=True`` and
    ``first_actions`` given, the lifetime is deterministic and ``rng`` may be None.
    Returns dict(returns, steps, success, fitness, actions, first_actions), where
    ``actions`` lists every action taken, all rollouts concatenated.
    ``reference_dtypes=True`` feeds a float64 input, so the hidden state and per-step
    temporaries are float64 as in the original (plastic matrices stay float32).
    """
    if first_actions is not None and len(first_actions) != n_rollouts:
        raise ValueError(
            f"first_actions needs {n_rollouts} entries, got {len(first_actions)}"
        )
    if rng is None and not (greedy and first_actions is not None):
        raise ValueError(
            "rng is required unless greedy=True and first_actions are given"
        )
    weights = (
        default_rollout_weights(n_rollouts)
        if rollout_weights is None
        else rollout_weights
    )
    if len(weights) != n_rollouts:
        raise ValueError(f"rollout_weights needs {n_rollouts} entries")
    genome = np.asarray(flat_genome, dtype=np.float32)
    model = build_model(model_name, genome, dec_scale=dec_scale)
    env = Maze2D(walls, start, goal)
    model.reset()  # once per lifetime; nothing is reset between rollouts

    returns, steps, success, actions, firsts = [], [], [], [], []
    x = np.zeros(M, np.float64 if reference_dtypes else np.float32)
    for r in range(n_rollouts):
        obs = env.reset()
        a_prev = (
            int(rng.integers(4)) if first_actions is None else int(first_actions[r])
        )
        firsts.append(a_prev)
        total, done, reached = 0.0, False, False
        while not done:
            x[:] = 0.0
            x[:9] = obs
            x[9 + a_prev] = 1.0  # x[13] (reward slot) and x[14] (done slot) stay 0
            out = model.step(x)
            a_prev = select_action(out, rng, greedy)
            actions.append(a_prev)
            obs, reward, done, reached = env.step(a_prev)
            total += reward
        returns.append(total)
        steps.append(env.t)
        success.append(bool(reached))

    penalty = GENOME_PENALTY * float(
        np.sqrt(np.mean(np.square(genome, dtype=np.float64)))
    )
    fitness = sum(
        w * (ret - penalty) for w, ret in zip(weights, returns, strict=True)
    ) / sum(weights)
    return {
        "returns": returns,
        "steps": steps,
        "success": success,
        "fitness": float(fitness),
        "actions": actions,
        "first_actions": firsts,
    }


def load_mazes(
    path: str | Path = MAZE_FILE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(walls (N,n,n) int8, start (N,2), goal (N,2)) from a validation-maze npz."""
    with np.load(path) as data:
        return data["walls"], data["start"], data["goal"]


def run_lifetimes(
    model_name: str,
    genome: np.ndarray,
    n_lifetimes: int,
    seed: int,
    mazes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    **kwargs,
) -> tuple[list[dict], float]:
    """One lifetime on each of the first ``n_lifetimes`` mazes (cycling).

    Returns (list of run_lifetime results, wall-clock seconds).
    """
    walls, start, goal = load_mazes() if mazes is None else mazes
    rng = np.random.default_rng(seed)
    results = []
    t0 = time.perf_counter()
    for i in range(n_lifetimes):
        k = i % len(walls)
        results.append(
            run_lifetime(model_name, genome, walls[k], start[k], goal[k], rng, **kwargs)
        )
    return results, time.perf_counter() - t0


def measure(
    model_name: str,
    n_lifetimes: int,
    seed: int,
    genome: np.ndarray | None = None,
    n_rollouts: int = 3,
    reference_dtypes: bool = False,
) -> float:
    """Env steps per second of the sequential inner loop in this process.

    Uses a random N(0, 0.05^2) genome drawn from ``seed`` unless ``genome`` is given.
    Pin the process to one core and set OMP/OPENBLAS_NUM_THREADS=1 for the reference's
    one-core conditions (the CLI does both).
    """
    if genome is None:
        genome = random_genome(model_name, np.random.default_rng(seed))
    mazes = load_mazes()
    results, seconds = run_lifetimes(
        model_name,
        genome,
        n_lifetimes,
        seed + 1,
        mazes,
        n_rollouts=n_rollouts,
        reference_dtypes=reference_dtypes,
    )
    return sum(sum(r["steps"]) for r in results) / seconds


_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _threads_limited() -> bool:
    return all(os.environ.get(v) == "1" for v in _THREAD_VARS)


def _reexec_single_threaded(argv: list[str]) -> None:
    """Restart the CLI with BLAS thread variables set (needed before numpy import)."""
    env = dict(os.environ, **{v: "1" for v in _THREAD_VARS})
    env["HEBBJAX_BASELINE_REEXEC"] = "1"
    if __spec__ is not None and __spec__.name:
        cmd = [sys.executable, "-m", __spec__.name, *argv]
    else:
        cmd = [sys.executable, str(Path(__file__).resolve()), *argv]
    sys.stdout.flush()
    os.execve(sys.executable, cmd, env)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.numpy_baseline",
        description="Plain-numpy, one-individual-at-a-time inner-loop throughput "
        "(CPU baseline).",
    )
    parser.add_argument("--model", choices=[*MODELS, "all"], default="decprnn-postdn")
    parser.add_argument("--lifetimes", type=int, default=50)
    parser.add_argument("--rollouts", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="report the median")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--paper-genome",
        action="store_true",
        help="use the released trained DecPRNN(PostDN) genome instead of a random one",
    )
    parser.add_argument(
        "--reference-dtypes",
        action="store_true",
        help="float64 input/hidden state like the original (plastic W stay float32)",
    )
    parser.add_argument(
        "--no-pin", action="store_true", help="do not pin to one CPU core"
    )
    parser.add_argument(
        "--no-reexec",
        action="store_true",
        help="do not restart with OMP/OPENBLAS_NUM_THREADS=1 when they are unset",
    )
    args = parser.parse_args(argv)

    if not _threads_limited():
        if not args.no_reexec and os.environ.get("HEBBJAX_BASELINE_REEXEC") != "1":
            _reexec_single_threaded(argv)
        print("note: OMP/OPENBLAS/MKL_NUM_THREADS are not all 1 in this process")
    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        print(f"pinned to CPU {cpu}")

    models = MODELS if args.model == "all" else (args.model,)
    if args.paper_genome:
        models = ("decprnn-postdn",)
    for model in models:
        genome = np.load(PAPER_GENOME_FILE) if args.paper_genome else None
        rates = [
            measure(
                model,
                args.lifetimes,
                args.seed + rep,
                genome,
                args.rollouts,
                reference_dtypes=args.reference_dtypes,
            )
            for rep in range(args.repeats)
        ]
        label = "paper genome" if args.paper_genome else "random genome N(0,0.05^2)"
        label += ", float64 hidden" if args.reference_dtypes else ", float32"
        print(
            f"{model} ({label}, {args.rollouts} rollouts, {args.lifetimes} lifetimes): "
            f"median {statistics.median(rates):,.0f} env steps/s on one core "
            f"(repeats: {', '.join(f'{r:,.0f}' for r in rates)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
