"""Typed, validated records of the three Ego4D annotation schemas egot2 reads.

* ``fho_oscc-pnr_*.json`` -> :func:`load_oscc_pnr` -> list of :class:`OsccPnrClip` (OSCC, PNR)
* ``fho_lta_*.json`` -> :func:`load_lta` -> list of :class:`LtaAction` (AR, LTA);
  ``fho_lta_taxonomy.json`` -> :func:`load_lta_taxonomy` -> :class:`LtaTaxonomy`
* ``av_*.json`` -> :func:`load_av` -> list of :class:`AvClip` (LAM, TTM, ASD)

Every loader raises :class:`~egot2.errors.UserInputError` naming the file, the record (unique_id,
clip_uid, ...) and the field for malformed JSON, a missing field, a wrong type, an end before its
start, a PNR frame outside its clip, a label outside the taxonomy or a repeated key. Test files without
labels load with ``require_labels=False``.
"""

from __future__ import annotations

from egot2.data.annotations.av import load_av
from egot2.data.annotations.av_records import (
    AvCameraWearer,
    AvClip,
    AvPerson,
    SocialSegment,
    TrackBox,
    TrackingPath,
    VoiceSegment,
)
from egot2.data.annotations.jsonio import read_json
from egot2.data.annotations.lta import (
    NUM_NOUNS_V1,
    NUM_VERBS_V1,
    LtaAction,
    LtaTaxonomy,
    load_lta,
    load_lta_taxonomy,
)
from egot2.data.annotations.oscc_pnr import OsccPnrClip, load_oscc_pnr

__all__ = [
    "NUM_NOUNS_V1",
    "NUM_VERBS_V1",
    "AvCameraWearer",
    "AvClip",
    "AvPerson",
    "LtaAction",
    "LtaTaxonomy",
    "OsccPnrClip",
    "SocialSegment",
    "TrackBox",
    "TrackingPath",
    "VoiceSegment",
    "load_av",
    "load_lta",
    "load_lta_taxonomy",
    "load_oscc_pnr",
    "read_json",
]
