"""Released TS checkpoints: safe reading, key mapping, conversion to safetensors and loading.

Typical use::

    convert_checkpoint("ttm", "ts_ttm.pth", "ttm.safetensors")   # or: egot2 convert-checkpoint ...
    model = build_ts_model("ttm", "full")
    load_converted(model, "ttm.safetensors")
"""

from egot2.checkpoints.convert import (
    ConversionReport,
    build_target,
    check_state_dict,
    convert_checkpoint,
    load_converted,
    save_converted,
    write_safetensors,
)
from egot2.checkpoints.mapping import KeyMapping, load_key_mapping, mappings_dir, parse_key_mapping
from egot2.checkpoints.reader import CONTAINERS, extract_state_dict, read_checkpoint, read_safetensors
from egot2.checkpoints.unpickler import Placeholder, RestrictedUnpickler, restricted_pickle

__all__ = [
    "CONTAINERS",
    "ConversionReport",
    "KeyMapping",
    "Placeholder",
    "RestrictedUnpickler",
    "build_target",
    "check_state_dict",
    "convert_checkpoint",
    "extract_state_dict",
    "load_converted",
    "load_key_mapping",
    "mappings_dir",
    "parse_key_mapping",
    "read_checkpoint",
    "read_safetensors",
    "restricted_pickle",
    "save_converted",
    "write_safetensors",
]
