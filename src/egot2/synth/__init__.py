"""The embedded default dataset: a small synthetic egocentric world with planted task relations.

``egot2 synth`` writes it in Ego4D's layout and schemas; :mod:`egot2.data` reads it back with the same
code that reads Ego4D. ``docs/synthetic.md`` explains the world, every config key and the relations.
"""

from egot2.synth.config import SIZES, WorldConfig, load_world_config
from egot2.synth.generate import WorldSummary, generate_world
from egot2.synth.relations import relations_ground_truth

__all__ = ["SIZES", "WorldConfig", "WorldSummary", "generate_world", "load_world_config", "relations_ground_truth"]
