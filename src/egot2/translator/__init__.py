"""The task translator (EgoT2-s): token layout, the shared token encoder, and the model."""

from egot2.translator.egot2s import EgoT2S
from egot2.translator.encoder import Encoder, EncoderLayer
from egot2.translator.layout import InputStream, default_aux, plan_streams
from egot2.translator.token_encoder import TokenEncoder

__all__ = ["EgoT2S", "Encoder", "EncoderLayer", "InputStream", "TokenEncoder", "default_aux", "plan_streams"]
