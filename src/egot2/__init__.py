"""egot2: EgoTask Translation (EgoT2, CVPR 2023) for egocentric video."""

__version__ = "0.1.0"

__all__ = ["__version__"]
