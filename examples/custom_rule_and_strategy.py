"""A user's own plasticity rule and strategy name, trained with hebbjax (no hebbjax edits).

python examples/custom_rule_and_strategy.py [--generations 30] [--out runs/oja]
"""

import argparse
import functools

import jax.numpy as jnp

import hebbjax
from hebbjax.rules.base import PlasticityRule, PlasticState, gate, zero_weight


def oja_rule(n_out: int, n_in: int) -> PlasticityRule:
    """Oja's rule with an evolved rate per synapse: dW = eta * y (x - y W)."""

    def update(params, state, pre, post, mu=None, plastic=True):
        rate = params["eta"] if mu is None else mu * params["eta"]
        dw = rate * post[:, None] * (pre[None, :] - post[:, None] * state.weight)
        return PlasticState(gate(plastic, state.weight + dw, state.weight))

    init = lambda params: PlasticState(zero_weight(n_out, n_in))  # noqa: E731
    return PlasticityRule({"eta": (n_out, n_in)}, init, update, n_out, n_in)


hebbjax.RULES.register("oja", oja_rule)
hebbjax.STRATEGIES.register(
    "pgpe-fast", functools.partial(hebbjax.STRATEGIES.get("pgpe"), learning_rate=0.02)
)

if __name__ == "__main__":
    cli = argparse.ArgumentParser()
    cli.add_argument("--generations", type=int, default=30)
    cli.add_argument("--out", default="runs/oja")
    args = cli.parse_args()
    config = hebbjax.TrainConfig(
        task="maze9", model="prnn-postdn", strategy="pgpe-fast", population=32,
        generations=args.generations, validate_every=10, n_validation=64,
        model_kwargs={"rule": "oja", "hidden": 16},
    )  # fmt: skip
    result = hebbjax.train(config, args.out)
    print(
        f"best validation score {result.best_score:+.3f} (gen {result.best_generation})"
    )
    print(
        "mean weight magnitude", float(jnp.mean(jnp.abs(result.mean_params["FC_1/W"])))
    )
