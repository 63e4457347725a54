"""hebbjax: evolving plasticity rules and plastic recurrent networks in JAX."""

__version__ = "0.1.0"
