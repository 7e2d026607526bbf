"""The seven Ego4D tasks EgoT2 studies (paper Table 1; REFERENCE section 1)."""

from __future__ import annotations

from egot2.tasks.spec import LossSpec, OutputKind, OutputSpec, StreamSpec, TaskSpec

NUM_VERBS = 115  # Ego4D v1 forecasting taxonomy
NUM_NOUNS = 478
LTA_STEPS = 20
PNR_FRAMES = 16

PNR = TaskSpec(
    name="pnr",
    cluster="human-object",
    modalities=("video",),
    clip_s=8.0,
    fps=2.0,
    window_s=8.0,
    streams=(StreamSpec("tokens", PNR_FRAMES, 8192),),
    clip_dim=8192,
    output=OutputSpec(OutputKind.KEYFRAME, num_classes=PNR_FRAMES),
    loss=LossSpec("bce_onehot"),
    metric="keyframe_err_s",
    metric_higher_is_better=False,
    description="point-of-no-return keyframe among 16 frames of an 8 s clip (I3D ResNet-50)",
)

OSCC = TaskSpec(
    name="oscc",
    cluster="human-object",
    modalities=("video",),
    clip_s=8.0,
    fps=2.0,
    window_s=8.0,
    streams=(StreamSpec("tokens", PNR_FRAMES, 8192),),
    clip_dim=8192,
    output=OutputSpec(OutputKind.BINARY, num_classes=2),
    loss=LossSpec("ce"),
    metric="acc",
    description="does an object change state in this 8 s clip (I3D ResNet-50)",
)

AR = TaskSpec(
    name="ar",
    cluster="human-object",
    modalities=("video",),
    clip_s=8.0,
    fps=15.0,  # 32 frames at sampling rate 2 of the 30 fps video
    window_s=64 / 30,
    streams=(StreamSpec("slow", 8, 2048), StreamSpec("fast", 8, 256)),
    clip_dim=2304,  # pooled slow 2048 + fast 256, the SlowFast head's input
    output=OutputSpec(OutputKind.VERB_NOUN, num_verbs=NUM_VERBS, num_nouns=NUM_NOUNS),
    loss=LossSpec("ce"),
    metric="verb_top1",
    description="verb and noun of the current action (SlowFast 8x8 R101)",
)

LTA = TaskSpec(
    name="lta",
    cluster="human-object",
    modalities=("video",),
    clip_s=16.0,
    fps=15.0,
    window_s=16.0,  # two observed action clips: longer than every other task's clip, so never auxiliary
    streams=(StreamSpec("clips", 2, 2048),),
    clip_dim=2048,
    input_clips=2,
    output=OutputSpec(OutputKind.SEQUENCE, num_verbs=NUM_VERBS, num_nouns=NUM_NOUNS, steps=LTA_STEPS),
    loss=LossSpec("ce"),
    metric="ed20_verb",
    metric_higher_is_better=False,
    description="the next 20 (verb, noun) actions after two observed ones (SlowFast + transformer)",
)

LAM = TaskSpec(
    name="lam",
    cluster="human-human",
    modalities=("video",),
    clip_s=7 / 30,
    fps=30.0,
    window_s=7 / 30,
    streams=(StreamSpec("frames", None, 256),),
    clip_dim=256,
    output=OutputSpec(OutputKind.BINARY, num_classes=2),
    loss=LossSpec("ce", class_weights=(0.136, 0.864)),  # the Ego4D LAM baseline's default weights
    can_be_primary=False,
    metric="map",
    description="is this face looking at the camera wearer (ResNet-18 + BiLSTM over 7 face crops)",
)

TTM = TaskSpec(
    name="ttm",
    cluster="human-human",
    modalities=("video", "audio"),
    clip_s=2.7,
    fps=30.0,
    window_s=None,
    streams=(StreamSpec("frames", None, 256), StreamSpec("audio", 1, 512, modalities=("audio",))),
    clip_dim=256,
    output=OutputSpec(OutputKind.BINARY, num_classes=2),
    loss=LossSpec("ce", class_weights=(0.266, 0.734)),
    metric="map",
    description="is this person talking to the camera wearer (face crops + audio)",
)

ASD = TaskSpec(
    name="asd",
    cluster="human-human",
    modalities=("video", "audio"),
    clip_s=3.7,
    fps=30.0,
    window_s=None,
    streams=(
        StreamSpec("frames", None, 256, modalities=("video", "audio")),
        StreamSpec("visual", None, 128, modalities=("video",), fallback_for="frames"),
    ),
    clip_dim=256,
    output=OutputSpec(OutputKind.FRAME_BINARY, num_classes=2),
    loss=LossSpec("ce", class_weights=(1.0, 4.0)),
    metric="map",
    description="is this face speaking, frame by frame (TalkNet)",
)

EGO4D_TASKS: tuple[TaskSpec, ...] = (PNR, OSCC, AR, LTA, LAM, TTM, ASD)
