"""Models of Wang et al. 2022, "decomposed plasticity" (Table 1, spec 1.2-1.7).

``MODELS`` maps kebab-case names to factories; ``make_model(name, **kwargs)``
builds one; ``model_summary()`` lists N_Gene, N_Mem and the bottleneck factor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import jax

from hebbjax.errors import ConfigError
from hebbjax.models.base import Model, n_gene
from hebbjax.models.eprnn import eprnn, eprnn_nomod
from hebbjax.models.eprnn_baselines import epmlp, epmlp_random, es_lstm, es_rnn
from hebbjax.models.es_maml import es_maml, es_maml_zero_shot
from hebbjax.models.feedforward import dnn, feedforward, meta_dnn
from hebbjax.models.genome_io import (
    GENOME_FORMATS,
    from_epann_flat,
    genome_format,
    genome_layout,
    load_genome,
    save_genome_npz,
    to_epann_flat,
)
from hebbjax.models.hebbian_cnn import hebbian_cnn, lstm_cnn, static_cnn
from hebbjax.models.hebbian_ffn import hebbian_ffn, lstm_ant, static_ffn
from hebbjax.models.pdnn import decpdnn, decpdnn_postdn, decpdnn_predn, plastic_dnn
from hebbjax.models.prnn import (
    decprnn,
    decprnn_postdn,
    decprnn_predn,
    merged_prnn_postdn,
    plastic_rnn,
    prnn,
    prnn_et,
    prnn_postdn,
    prnn_predn,
    prnn_scratch_et,
)
from hebbjax.models.recurrent import meta_lstm, meta_rnn, meta_rnn_32
from hebbjax.options import check_options
from hebbjax.registry import Registry

MODELS: Registry[Callable[..., Model]] = Registry("model")
for _factory in (
    dnn,
    meta_dnn,
    meta_rnn_32,
    meta_rnn,
    meta_lstm,
    prnn,
    prnn_predn,
    prnn_postdn,
    decpdnn,
    decpdnn_predn,
    decpdnn_postdn,
    decprnn,
    decprnn_predn,
    decprnn_postdn,
    prnn_et,
    prnn_scratch_et,
    merged_prnn_postdn,
    # EPRNN paper (Wang et al., "Do What Nature Did To Us", spec 4.3)
    eprnn,
    eprnn_nomod,
    es_rnn,
    es_lstm,
    epmlp,
    epmlp_random,
    es_maml,
    es_maml_zero_shot,
    # Najarro & Risi 2020 / Palm et al. 2021 ant networks (hebbian-ant-brax spec 1.1, 2.6)
    hebbian_ffn,
    static_ffn,
    lstm_ant,
    # car racing from pixels (Najarro & Risi 2020, Palm et al. 2021)
    hebbian_cnn,
    static_cnn,
    lstm_cnn,
):
    MODELS.register(_factory.__name__.replace("_", "-"), _factory)


def make_model(name: str, **kwargs) -> Model:
    """Build the registered model ``name`` (e.g. "decprnn-postdn").

    Raises:
        ValueError: an unknown name (listing the valid names), or a ``ConfigError`` for an
            unknown option, a value of the wrong type or an impossible size.
    """
    factory = MODELS.get(name)
    check_options(factory, kwargs, "model option")
    model = factory(**kwargs)
    empty = [
        k
        for k, v in jax.eval_shape(model.init_params, jax.random.key(0)).items()
        if 0 in v.shape
    ]
    if empty:
        raise ConfigError(
            f"model {name!r} with {kwargs} has empty tensors: {empty[:3]}"
        )
    return model


def model_summary(names: Iterable[str] | None = None) -> list[dict]:
    """name, n_gene, n_mem, bottleneck_factor (N_Mem / N_Gene), description."""
    rows = []
    for name in MODELS.names() if names is None else names:
        factory = MODELS.get(name)
        model = factory()
        genes = n_gene(model)
        rows.append(
            {
                "name": name,
                "n_gene": genes,
                "n_mem": model.n_mem,
                "bottleneck_factor": model.n_mem / genes,
                "description": (factory.__doc__ or "").strip().splitlines()[0],
            }
        )
    return rows


__all__ = [
    "MODELS",
    "Model",
    "GENOME_FORMATS",
    "from_epann_flat",
    "genome_format",
    "genome_layout",
    "load_genome",
    "make_model",
    "model_summary",
    "feedforward",
    "n_gene",
    "plastic_dnn",
    "plastic_rnn",
    "save_genome_npz",
    "to_epann_flat",
]
