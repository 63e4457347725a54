"""Environments: the MetaMaze2D gymnax environment, its generator, maze sets and baselines
(Wang et al. 2022, spec ``maze-decprnn-eprnn.md`` section 2)."""

from hebbjax.envs.baselines import maze_baselines, oracle_returns, random_returns
from hebbjax.envs.maze import MazeParams, MazeState, MetaMaze2D, observation_grid
from hebbjax.envs.maze_gen import (
    all_open_connected,
    goal_reachable,
    interior_wall_fraction,
    sample_maze,
    shortest_path_length,
)
from hebbjax.envs.maze_sets import load_maze_npz, maze_set, save_maze_npz

__all__ = [
    "MazeParams",
    "MazeState",
    "MetaMaze2D",
    "all_open_connected",
    "goal_reachable",
    "interior_wall_fraction",
    "load_maze_npz",
    "maze_baselines",
    "maze_set",
    "observation_grid",
    "oracle_returns",
    "random_returns",
    "sample_maze",
    "save_maze_npz",
    "shortest_path_length",
]
