"""The task translator (EgoT2-s): token layout, projections, positions, encoder, model."""

from egot2.translator.egot2s import EgoT2S
from egot2.translator.encoder import Encoder, EncoderLayer
from egot2.translator.layout import InputStream, default_aux, plan_streams

__all__ = ["EgoT2S", "Encoder", "EncoderLayer", "InputStream", "default_aux", "plan_streams"]
