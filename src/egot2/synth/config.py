"""The typed world config of ``egot2 synth``: every key and its default (checks: :mod:`egot2.synth.validate`).

YAML files hold only deltas over these defaults (``presets/quick.yaml`` is one); an unknown key is an
error naming the key and the file. ``docs/synthetic.md`` documents every key; ``presets/default.yaml``
lists them all with their default values (a test keeps the two equal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from egot2.errors import UserInputError

FPS = 30  # Ego4D canonical videos
SAMPLE_RATE = 16000  # Ego4D audio
SIZES: tuple[str, ...] = ("tiny", "quick", "default")
MOTIONS: tuple[str, ...] = ("lift", "lower", "chop", "pour", "press", "brush", "sweep", "stir", "shake", "hover")
CHANGES: tuple[str, ...] = ("none", "split", "fill", "squash", "recolour")
SHAPES: tuple[str, ...] = ("disc", "ring", "square", "triangle", "bar", "diamond")
CODECS: tuple[str, ...] = ("auto", "h264", "mpeg4")
AUDIO_CODECS: tuple[str, ...] = ("aac", "mp2")
MIN_LTA_ACTIONS = 22  # 2 observed + 20 future actions make one LTA window


@dataclass
class Splits:
    """How many clips (or videos) one task family has per split.

    Args:
        train: clips in the train split.
        val: clips in the val split.
        test: clips in the test split (written without labels, as ``test_unannotated``).
    """

    train: int = 1
    val: int = 1
    test: int = 1

    def check(self, name: str) -> None:
        """Raise unless every count is >= 1."""
        for split in ("train", "val", "test"):
            if getattr(self, split) < 1:
                raise UserInputError(f"must be >= 1, got {getattr(self, split)}", field=f"{name}.{split}")


@dataclass
class VerbDef:
    """A verb class: how the hand moves and what it does to the object.

    Args:
        name: the class name written to ``fho_lta_taxonomy.json``.
        motion: the hand's motion pattern (one of :data:`MOTIONS`).
        change: the state change the verb causes at the point of no return (one of :data:`CHANGES`;
            ``none`` for verbs that never change state).
    """

    name: str = ""
    motion: str = "hover"
    change: str = "none"


@dataclass
class NounDef:
    """A noun class: the object's shape and colour.

    Args:
        name: the class name.
        shape: one of :data:`SHAPES`.
        colour: RGB, each 0..255.
    """

    name: str = ""
    shape: str = "disc"
    colour: list[int] = field(default_factory=lambda: [200, 60, 50])


@dataclass
class ScenarioDef:
    """A hidden scenario of the action grammar (LTA): its verbs and nouns, each list in cycle order.

    Args:
        name: the scenario's name (never written to an annotation file: it is hidden).
        verbs: verbs of the scenario; the grammar tends to follow this order cyclically.
        nouns: nouns of the scenario, in cycle order likewise.
    """

    name: str = ""
    verbs: list[str] = field(default_factory=list)
    nouns: list[str] = field(default_factory=list)


def _verbs() -> list[VerbDef]:
    return [VerbDef(n, m, c) for n, m, c in (
        ("take", "lift", "none"), ("put", "lower", "none"), ("cut", "chop", "split"), ("pour", "pour", "fill"),
        ("crush", "press", "squash"), ("paint", "brush", "recolour"), ("wipe", "sweep", "none"),
        ("stir", "stir", "none"), ("shake", "shake", "none"), ("inspect", "hover", "none"))]


def _nouns() -> list[NounDef]:
    red, green, blue, orange, purple, yellow = ([210, 50, 40], [60, 170, 60], [50, 90, 215], [240, 135, 30],
                                                [150, 60, 180], [235, 205, 40])
    return [NounDef(n, s, list(c)) for n, s, c in (
        ("tomato", "disc", red), ("lime", "disc", green), ("bowl", "ring", blue), ("donut", "ring", orange),
        ("box", "square", purple), ("sponge", "square", yellow), ("cheese", "triangle", orange),
        ("pizza", "triangle", red), ("bottle", "bar", green), ("candle", "bar", purple), ("gem", "diamond", blue),
        ("kite", "diamond", yellow))]


def _scenarios() -> list[ScenarioDef]:
    return [
        ScenarioDef("kitchen", ["take", "cut", "stir", "pour", "put"], ["tomato", "lime", "bowl", "cheese", "pizza"]),
        ScenarioDef("workshop", ["take", "crush", "inspect", "paint", "put"], ["box", "bottle", "candle", "gem", "donut"]),
        ScenarioDef("cleaning", ["take", "shake", "pour", "wipe", "cut"], ["sponge", "kite", "bowl", "bottle", "box"]),
    ]


@dataclass
class TaxonomyConfig:
    """Verb and noun classes and the hidden scenarios of the action grammar.

    Args:
        verbs: the verb classes (list index = ``verb_label``).
        nouns: the noun classes (list index = ``noun_label``).
        scenarios: the hidden scenarios.
    """

    verbs: list[VerbDef] = field(default_factory=_verbs)
    nouns: list[NounDef] = field(default_factory=_nouns)
    scenarios: list[ScenarioDef] = field(default_factory=_scenarios)


@dataclass
class VideoConfig:
    """How videos are encoded.

    Args:
        codec: ``auto`` (H.264 when PyAV has an encoder for it, else MPEG-4 part 2), ``h264`` or ``mpeg4``.
        crf: H.264 constant rate factor (lower = better quality); MPEG-4 uses the matching qscale.
        gop: frames between keyframes (small = cheaper seeks).
        audio_codec: ``aac`` (as Ego4D) or ``mp2`` (faster to encode).
    """

    codec: str = "auto"
    crf: int = 17
    gop: int = 30
    audio_codec: str = "aac"


@dataclass
class HumanObjectConfig:
    """The camera-wearer scene of PNR, OSCC, AR and LTA (a table seen from above, a hand, objects).

    Args:
        size: frame side in pixels (square frames).
        camera_shake: head-motion jitter of the whole frame, in pixels.
        motion_noise: the AR verb cue's difficulty: random amplitude, speed and position jitter of the
            hand's motion pattern (0 = every verb moves exactly alike every time).
        colour_jitter: the AR noun cue's difficulty: per-clip RGB jitter of object colours.
        distractors: small static objects of random nouns around the scene (noun clutter).
    """

    size: int = 64
    camera_shake: float = 1.0
    motion_noise: float = 0.35
    colour_jitter: float = 28.0
    distractors: int = 2


@dataclass
class OsccPnrConfig:
    """The 8 s clips of ``fho_oscc-pnr_*.json`` (OSCC and PNR share them, as in Ego4D).

    Args:
        clips: 8 s clips per split.
        clips_per_video: consecutive clips cut from one parent video.
        p_change_verb: probability that a clip's verb is one that can change state.
        p_change_given_change_verb: probability of a state change when it is.
        p_change_given_other_verb: probability of a state change otherwise (the object changes anyway).
        change_strength: the OSCC/PNR own cue's visibility, 0..1: how much the object changes
            (split gap, fill contrast, squash, recolour blend) at the point of no return.
        pnr_range: where in the clip the contact (point of no return) falls, as fractions of 8 s.
    """

    clips: Splits = field(default_factory=lambda: Splits(240, 80, 80))
    clips_per_video: int = 4
    p_change_verb: float = 0.5
    p_change_given_change_verb: float = 0.9
    p_change_given_other_verb: float = 0.05
    change_strength: float = 0.45
    pnr_range: list[float] = field(default_factory=lambda: [0.25, 0.75])


@dataclass
class ArLtaConfig:
    """The long clips of ``fho_lta_*.json``: action sequences from the grammar (AR and LTA share them).

    Args:
        clips: clips (one video each) per split.
        actions_per_clip: [min, max] actions in a clip; each clip gives actions - 21 LTA windows.
        action_frames: [min, max] frames of one action (AR samples 64 frames of it).
        determinism: how strongly the grammar follows its scenario's cycle: the next verb (and noun)
            is the cycle's next with this probability, else uniform over the scenario's set.
    """

    clips: Splits = field(default_factory=lambda: Splits(20, 8, 8))
    actions_per_clip: list[int] = field(default_factory=lambda: [28, 32])
    action_frames: list[int] = field(default_factory=lambda: [66, 96])
    determinism: float = 0.75


@dataclass
class HumanHumanConfig:
    """The conversation clips of ``av_*.json`` (LAM, TTM and ASD share them, as in Ego4D).

    Args:
        clips: clips (one video each) per split.
        clip_seconds: duration of a clip.
        width: frame width in pixels.
        height: frame height in pixels.
        face_height: [min, max] face height in pixels.
        speaker_weights: relative chances that the next utterance comes from a visible partner, the
            camera wearer, or an off-screen talker.
        utterance_seconds: [min, max] utterance duration.
        gap_seconds: [min, max] silence between utterances.
        p_address_wearer: probability that a visible partner's utterance is addressed to the camera
            wearer (the partner then looks at the camera while speaking).
        p_look_when_wearer_speaks: probability that a partner looks at the camera while the wearer speaks.
        p_look_idle: probability that a partner looks at the camera in any other stretch.
    """

    clips: Splits = field(default_factory=lambda: Splits(40, 16, 16))
    clip_seconds: float = 30.0
    width: int = 128
    height: int = 96
    face_height: list[int] = field(default_factory=lambda: [40, 48])
    speaker_weights: list[float] = field(default_factory=lambda: [0.6, 0.25, 0.15])
    utterance_seconds: list[float] = field(default_factory=lambda: [1.0, 4.0])
    gap_seconds: list[float] = field(default_factory=lambda: [0.2, 1.2])
    p_address_wearer: float = 0.5
    p_look_when_wearer_speaks: float = 0.7
    p_look_idle: float = 0.3


@dataclass
class LamConfig:
    """Looking at me: its own cue.

    Args:
        gaze_shift: how far pupils and face turn when a partner looks away, 0..1 (0 = invisible).
        near_miss: probability that an idle look-away stretch is a near miss: the partner looks just
            past the wearer (at their shoulder), pupils and face turned by only a tenth of
            ``gaze_shift``; labelled not looking. Hard negatives: LAM's own difficulty.
    """

    gaze_shift: float = 0.8
    near_miss: float = 0.3


@dataclass
class AsdConfig:
    """Active speaker detection: its own cue.

    Args:
        idle_mouth: mouth motion of a silent face, 0..1 of a speaking mouth's opening (a distractor).
        noise_db: background noise level relative to the speech, in dB.
    """

    idle_mouth: float = 0.2
    noise_db: float = -18.0


@dataclass
class TtmConfig:
    """Talking to me: its label, its own data size and the candidate segments.

    Args:
        train_fraction: fraction of the train clips whose talking segments are annotated (TTM's own
            training set is small; val and test are fully annotated).
        label_noise: probability that a talking segment's label is flipped.
        listener_segments: probability that a silent partner gets a candidate segment over someone
            else's utterance (always negative: it is not that face that talks).
    """

    train_fraction: float = 0.3
    label_noise: float = 0.1
    listener_segments: float = 0.5


@dataclass
class WorldConfig:
    """The whole synthetic world. Defaults are the ``default`` size; ``--size quick`` shrinks the counts.

    Args:
        name: a label written into the annotation files' description.
        seed: the world's seed (``egot2 synth --seed`` overrides it).
        video: encoding settings.
        taxonomy: verbs, nouns and hidden scenarios.
        human_object: the hand-object scene.
        oscc_pnr: OSCC/PNR clips and the state-change relation.
        ar_lta: AR/LTA clips and the action grammar.
        human_human: the conversation scene.
        lam: LAM cue.
        asd: ASD cue.
        ttm: TTM labels and data size.
    """

    name: str = "default"
    seed: int = 0
    video: VideoConfig = field(default_factory=VideoConfig)
    taxonomy: TaxonomyConfig = field(default_factory=TaxonomyConfig)
    human_object: HumanObjectConfig = field(default_factory=HumanObjectConfig)
    oscc_pnr: OsccPnrConfig = field(default_factory=OsccPnrConfig)
    ar_lta: ArLtaConfig = field(default_factory=ArLtaConfig)
    human_human: HumanHumanConfig = field(default_factory=HumanHumanConfig)
    lam: LamConfig = field(default_factory=LamConfig)
    asd: AsdConfig = field(default_factory=AsdConfig)
    ttm: TtmConfig = field(default_factory=TtmConfig)

    def __post_init__(self) -> None:
        from egot2.synth.validate import validate_world

        validate_world(self)


def preset_path(name: str) -> Path:
    """The shipped YAML of preset ``name`` (``default`` lists every key, ``quick`` is a delta)."""
    if name not in SIZES:
        raise UserInputError(f"unknown size {name!r}; valid: {list(SIZES)}", field="size")
    return Path(str(resources.files("egot2.synth") / "presets" / f"{name}.yaml"))


def load_world_config(
    size: str = "default",
    world: str | Path | None = None,
    seed: int | None = None,
    overrides: Sequence[str] = (),
) -> WorldConfig:
    """Resolve a world config: defaults, the ``size`` preset, the ``world`` YAML, ``seed``, overrides.

    Args:
        size: ``quick`` or ``default``.
        world: a YAML file of deltas (or a ``world.yaml`` written by a previous run).
        seed: overrides the config's seed when given.
        overrides: ``a.b=value`` strings, applied last.

    Raises:
        UserInputError: unknown size, unreadable or malformed YAML, an unknown key or a bad value,
            naming the key and the file.
    """
    from egot2.config import load_config

    preset = preset_path(size)
    files: list[str | Path] = [] if size == "default" else [preset]
    if world is not None:
        if not Path(world).is_file():
            raise UserInputError("world config not found", file=world)
        files.append(world)
    items = ([f"seed={seed}"] if seed is not None else []) + list(overrides)
    return load_config(files, items, schema=WorldConfig)
