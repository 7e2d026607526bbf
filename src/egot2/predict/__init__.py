"""Answering raw video with trained EgoT2-g runs (``egot2 predict``)."""

from egot2.predict.predictor import Predictor, predict_video
from egot2.predict.tracks import FaceTrack, read_tracks, write_tracks

__all__ = ["FaceTrack", "Predictor", "predict_video", "read_tracks", "write_tracks"]
