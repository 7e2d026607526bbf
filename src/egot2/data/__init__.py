"""Ego4D data: annotation records, decoding, clip samplers, transforms and task datasets.

* :mod:`egot2.data.annotations` - typed, validated parsers of the Ego4D annotation files
* :mod:`egot2.data.layout` - where annotation files and videos are in a data folder
* :mod:`egot2.data.video`, :mod:`egot2.data.audio` - PyAV decoding (30 fps frame indices, 16 kHz mono audio, MFCC)
* :mod:`egot2.data.samplers` - frame indices of each task's clips, as the Ego4D baselines sample
* :mod:`egot2.data.transforms` - resize / crop / normalise, face crops from track boxes
* :mod:`egot2.data.datasets` - one torch dataset per task (:func:`~egot2.data.datasets.build_dataset`)
* :mod:`egot2.data.collate` - batching with padding and skip reports; :mod:`egot2.data.check` - folder checks

Nothing is imported here, so that importing the annotation parsers stays cheap.
"""
