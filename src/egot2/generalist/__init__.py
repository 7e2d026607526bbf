"""EgoT2-g: the task-general translator with a prompt-conditioned sequence decoder."""

from egot2.generalist.decoder import SequenceDecoder
from egot2.generalist.egot2g import EgoT2G, Generation
from egot2.generalist.tokenizers import TaskTokenizer
from egot2.generalist.vocab import Vocabulary, prompt_heads

__all__ = ["EgoT2G", "Generation", "SequenceDecoder", "TaskTokenizer", "Vocabulary", "prompt_heads"]
