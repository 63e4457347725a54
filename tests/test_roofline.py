"""Tests of the maze models' cost model and roofline arithmetic (issue 19).

``benchmarks/cost_model.py`` states FLOP per agent-step as formulas over the genome's shapes;
here they are checked against an independent count: walking the traced ``model.step``
(``jax.make_jaxpr``) and counting 2 m n k per matmul and one per output element of each
arithmetic primitive. The one allowed difference is Python's ``sum`` starting from the
literal 0 in the direct decomposed update (``0 + term``), which the cost model does not count
(XLA removes it).
"""

import json
import math
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import cost_model, roofline  # noqa: E402

from hebbjax.models import make_model, n_gene  # noqa: E402

ARITHMETIC = {
    "add",
    "sub",
    "mul",
    "div",
    "neg",
    "tanh",
    "logistic",
    "exp",
    "max",
    "min",
}


def _is_zero_literal(v) -> bool:
    return hasattr(v, "val") and not np.any(np.asarray(v.val))


def traced_flop(jaxpr) -> int:
    """FLOP of a jaxpr: 2 m n k per dot_general, one per element of arithmetic ops and
    of reduce_sum's input, nested jaxprs included; adds of a literal zero are free."""
    total = 0
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        out = math.prod(eqn.outvars[0].aval.shape)
        if name == "dot_general":
            (contract, _), _ = eqn.params["dimension_numbers"]
            lhs = eqn.invars[0].aval.shape
            total += 2 * out * math.prod(lhs[i] for i in contract)
        elif name == "add" and any(_is_zero_literal(v) for v in eqn.invars):
            pass
        elif name in ARITHMETIC:
            total += out
        elif name == "reduce_sum":
            total += math.prod(eqn.invars[0].aval.shape)
        for param in eqn.params.values():
            inner = getattr(param, "jaxpr", None)
            if inner is not None:
                total += traced_flop(getattr(inner, "jaxpr", inner))
    return total


def _model(name, form):
    return make_model(name, **({} if form == "direct" else {"plastic_form": form}))


@pytest.mark.parametrize(("name", "form"), cost_model.VARIANTS)
def test_flop_matches_traced_step(name, form):
    model = _model(name, form)
    params = model.init_params(jax.random.key(0))
    memory = model.init_memory(params)
    x = jnp.zeros((model.n_in,), jnp.float32)
    counted = traced_flop(jax.make_jaxpr(model.step)(params, memory, x).jaxpr)
    assert cost_model.step_cost(name, model).flop == counted


def test_decprnn_cost_from_shapes():
    """DecPRNN(PostDN), h = 64, n = 15, o = 5: issue 19's 53 kFLOP and 66 KB."""
    model = _model("decprnn-postdn", "direct")
    cost = cost_model.step_cost("decprnn-postdn", model)
    h, n, o = 64, model.n_in, model.n_out
    plastic = h * h + h * n
    assert cost.plastic_weights == plastic == 5056
    assert cost.n_mem_elements == model.n_mem  # h + W_h + W_x, the paper's N_Mem
    expected_bytes = 4 * (n_gene(model) + 2 * model.n_mem + plastic + n + o)
    assert cost.bytes == expected_bytes
    assert 52_000 < cost.flop < 54_000 and 65_000 < cost.bytes < 68_000
    factored = cost_model.step_cost(
        "decprnn-postdn", _model("decprnn-postdn", "factored")
    )
    assert factored.flop < cost.flop / 2  # rank-1 instead of rank-4 update


def test_unknown_model_lists_valid_names():
    with pytest.raises(ValueError, match="decprnn-postdn"):
        cost_model.step_cost("dnn", make_model("dnn"))


LIMITS = dict(
    devices=2,
    caches={"L2": 512 * 1024, "L3": 32 * 1024**2},
    matmul={"gflop_per_s": 200.0},
    bandwidth={
        "l2": {"gb_per_s": 300.0},
        "llc": {"gb_per_s": 150.0},
        "dram": {"gb_per_s": 20.0},
    },
)
COST = dict(flop=50_000, bytes=60_000, working_set_bytes=25_000)


def test_roofline_is_the_lower_ceiling_of_the_level_holding_the_block():
    # 16 lifetimes x 25 KB = 400 KB fit L2: min(200e9 / 5e4, 300e9 / 6e4) = 4e6, compute
    r = roofline.roofline(COST, LIMITS, population=1024, block=16)
    assert (r["level"], r["bound"]) == ("l2", "compute")
    assert r["roofline"] == pytest.approx(4e6)
    # 32 x 25 KB = 800 KB: L3, 150e9 / 6e4 = 2.5e6 < 4e6, memory bound
    r = roofline.roofline(COST, LIMITS, population=1024, block=32)
    assert (r["level"], r["bound"]) == ("llc", "memory")
    assert r["roofline"] == pytest.approx(2.5e6)
    assert r["roofline_l2"] == pytest.approx(4e6)
    # no blocking: 2,048 lifetimes per device x 25 KB = 51 MB > L3: main memory
    r = roofline.roofline(COST, LIMITS, population=4096, block=None)
    assert r["lifetimes_in_flight"] == 2048 and r["level"] == "dram"
    assert r["roofline"] == pytest.approx(20e9 / 60_000)
    # a population smaller than a block: only its share is in flight
    assert roofline.lifetimes_in_flight(5, 32, 2) == 3


def test_a_faster_level_is_never_given_a_lower_ceiling_than_a_slower_one():
    """An L2 pass measured below the L3 pass (loop overhead on a short pass) takes the L3
    rate: a block held in L2 cannot be bound tighter than one spilling to L3."""
    inverted = dict(
        LIMITS,
        bandwidth=dict(LIMITS["bandwidth"], l2={"gb_per_s": 100.0}),
    )
    assert roofline.level_bandwidth(inverted, "l2") == 150.0
    assert roofline.level_bandwidth(inverted, "llc") == 150.0
    assert roofline.level_bandwidth(inverted, "dram") == 20.0
    r = roofline.roofline(COST, inverted, population=1024, block=16)
    assert r["level"] == "l2" and r["roofline"] == pytest.approx(150e9 / 60_000)
    assert roofline.level_bandwidth(LIMITS, "l2") == 300.0  # in order: unchanged


def test_fraction_is_measured_over_roofline_of_the_best_row():
    rows = [
        dict(model="m", form="direct", population=p, block_lifetimes=32, steps_per_s=s)
        for p, s in ((64, 1.0e6), (1024, 2.0e6), (4096, 1.5e6))
    ]
    rows.append(dict(rows[0], model="other", steps_per_s=9e9))
    (row,) = roofline.roofline_rows({"m/direct": COST}, LIMITS, rows)
    assert row["population"] == 1024 and row["measured"] == 2.0e6
    assert row["fraction"] == pytest.approx(2.0e6 / 2.5e6)
    assert row["fraction"] == roofline.fraction(row["measured"], row["roofline"])
    assert row["fraction_l2"] == pytest.approx(2.0e6 / 4e6)
    assert row["fraction_per_cpu"] == pytest.approx(row["fraction"])  # no shares


def test_fraction_per_cpu_divides_each_rate_by_its_share():
    limits = dict(
        LIMITS,
        matmul={"gflop_per_s": 200.0, "cpu_share": 0.5},
        bandwidth={k: {**v, "cpu_share": 0.5} for k, v in LIMITS["bandwidth"].items()},
    )
    rows = [
        dict(
            model="m",
            form="direct",
            population=1024,
            block_lifetimes=32,
            steps_per_s=2.0e6,
            cpu_share=0.8,
        )
    ]
    (row,) = roofline.roofline_rows({"m/direct": COST}, limits, rows)
    # ceilings at full share: 300 GB/s in L3 -> 5e6; measured at full share 2.5e6
    assert row["fraction"] == pytest.approx(2.0e6 / 2.5e6)
    assert row["fraction_per_cpu"] == pytest.approx((2.0e6 / 0.8) / 5e6)


def test_lifetimes_sharing_a_genome_read_it_once():
    """The training configuration (an individual's 8 mazes in one block) counts the
    genome's bytes once for the 8 lifetimes, in the traffic and in the block's working
    set, and gets its own row beside the one-lifetime row."""
    cost = dict(COST, n_gene=5_000)  # a 20-KB genome in the 60 KB / 25 KB above
    assert roofline.shared_genome(cost, 1) is cost
    shared = roofline.shared_genome(cost, 8)
    assert shared["bytes"] == pytest.approx(60_000 - 20_000 * 7 / 8)
    assert shared["working_set_bytes"] == pytest.approx(25_000 - 20_000 * 7 / 8)
    # 32 lifetimes x 25 KB = 800 KB: L3 alone; shared: 32 x 7.5 KB = 240 KB, in L2
    assert roofline.roofline(cost, LIMITS, 1024, 32)["level"] == "llc"
    r = roofline.roofline(cost, LIMITS, 128, 32, per_genome=8)
    assert r["lifetimes_in_flight"] == 32 and r["level"] == "l2"
    assert r["bytes"] == pytest.approx(shared["bytes"])
    with pytest.raises(ValueError, match="per_genome"):
        roofline.shared_genome(cost, 0)
    rows = [
        dict(model="m", form="direct", population=1024, block_lifetimes=32,
             steps_per_s=2.0e6),
        dict(model="m", form="direct", population=128, block_lifetimes=32,
             steps_per_s=3.0e6, lifetimes_per_genome=8),
    ]  # fmt: skip
    one, trained = roofline.roofline_rows({"m/direct": cost}, LIMITS, rows)
    assert (one["lifetimes_per_genome"], trained["lifetimes_per_genome"]) == (1, 8)
    assert trained["measured"] == 3.0e6 and trained["fraction"] == pytest.approx(
        3.0e6 / trained["roofline"]
    )
    assert "| m | direct | 8 |" in "\n".join(roofline.rows_markdown([one, trained]))


def test_render_rewrites_the_report_from_the_saved_parts(tmp_path, capsys):
    """``python -m benchmarks --render`` measures nothing: the committed
    throughput.json gives the same tables back (the roofline with its blocked rows),
    written atomically; without a saved run it says what is missing."""
    import shutil
    from pathlib import Path

    import benchmarks.__main__ as bench

    saved = Path(bench.RESULTS) / "throughput.json"
    shutil.copy(saved, tmp_path / "throughput.json")
    assert bench.main(["--render", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "throughput.md").read_text()
    assert "| model | form | lifetimes / genome |" in md
    assert "Blocked by genome: each individual on 8 mazes" in md
    assert (tmp_path / "throughput.png").stat().st_size > 0
    before = json.loads(saved.read_text())
    after = json.loads((tmp_path / "throughput.json").read_text())
    assert after["parts_run"] == before["parts_run"]
    assert after["roofline"] == before["roofline"]
    assert (after["date"], after["machine"]) == (before["date"], before["machine"])
    assert not list(tmp_path.glob("*.tmp*")) and not list(tmp_path.glob(".*"))
    with pytest.raises(SystemExit, match="--render needs"):
        bench.main(["--render", "--out", str(tmp_path / "empty")])
