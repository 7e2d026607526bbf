"""The LTA task-specific model: SlowFast per clip, a transformer over the clips, 20 future-action heads.

Each observed clip goes through SlowFast with a clip head ``Linear(2304 -> 2048)`` (no activation); the
2 clip features get a sinusoidal position table and a 6-layer post-LN transformer encoder (8 heads,
feed-forward 2048, final LayerNorm); the last clip's encoding feeds 20 heads ``Linear(2048 -> 115 +
478)``, split into verb and noun logits. The encoder output of every clip is the token stream the
translators read.

As released (``MODEL.FREEZE_BACKBONE``), the SlowFast backbone is frozen except its clip head:
180.1M of the 242.0M parameters are trainable. The backbone was initialised from the AR model
(:meth:`LTAModel.init_backbone_from`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from egot2.backbones.base import Batch, TSModel
from egot2.backbones.hoi_inputs import get_labels
from egot2.backbones.slowfast import SlowFast, SlowFastConfig, slowfast_config, slowfast_inputs
from egot2.errors import UserInputError
from egot2.tasks.ego4d import LTA_STEPS, NUM_NOUNS, NUM_VERBS


@dataclass(frozen=True)
class LTAConfig:
    """Sizes of the LTA model.

    Args:
        backbone: the SlowFast clip encoder.
        clip_dim: clip feature size (``MODEL.MULTI_INPUT_FEATURES``) and the transformer width.
        layers: transformer encoder layers.
        heads: attention heads.
        ff_dim: feed-forward width of each layer.
        attn_dropout: dropout inside the encoder layers.
        pos_dropout: dropout after adding the position table.
        max_clips: rows of the position table.
        steps: Z, future actions predicted.
        dropout: dropout before the decoder heads.
        freeze_backbone: freeze SlowFast except its clip head, as released.
    """

    backbone: SlowFastConfig = field(default_factory=SlowFastConfig)
    clip_dim: int = 2048
    layers: int = 6
    heads: int = 8
    ff_dim: int = 2048
    attn_dropout: float = 0.1
    pos_dropout: float = 0.2
    max_clips: int = 1000
    steps: int = LTA_STEPS
    dropout: float = 0.5
    freeze_backbone: bool = True


def lta_config(size: str) -> LTAConfig:
    """The LTA configuration of ``size`` (``"full"`` or ``"tiny"``)."""
    if size == "full":
        return LTAConfig()
    if size == "tiny":
        return LTAConfig(slowfast_config("tiny"), clip_dim=64, layers=2, heads=4, ff_dim=128, dropout=0.1)
    raise UserInputError(f"unknown TS size {size!r}; valid: ['full', 'tiny']", field="size")


def sinusoid_table(length: int, dim: int) -> Tensor:
    """``(length, 1, dim)``: sin at even, cos at odd channels, frequencies ``10000^(-2i/dim)``."""
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)  # (L, 1)
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))  # (dim/2,)
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(position * freq)
    table[:, 1::2] = torch.cos(position * freq)
    return table.unsqueeze(1)  # (L, 1, dim)


class PositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal table ``pe`` to a sequence-first ``(S, B, D)`` input, then dropout.

    ``pe`` is rebuilt by the constructor and left out of the state dict.

    Args:
        dim: feature size.
        dropout: dropout rate.
        max_len: rows of the table.
    """

    def __init__(self, dim: int, dropout: float, max_len: int) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pe", sinusoid_table(max_len, dim), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(x + self.pe[: x.shape[0]])


class TransformerAggregator(nn.Module):
    """Position table + post-LN transformer encoder with a final LayerNorm over the clip features.

    Args:
        cfg: sizes.
    """

    def __init__(self, cfg: LTAConfig) -> None:
        super().__init__()
        layer = nn.TransformerEncoderLayer(cfg.clip_dim, cfg.heads, cfg.ff_dim, cfg.attn_dropout)
        self.encoder = nn.TransformerEncoder(
            layer, cfg.layers, norm=nn.LayerNorm(cfg.clip_dim), enable_nested_tensor=False
        )
        self.pos_encoder = PositionalEncoding(cfg.clip_dim, cfg.pos_dropout, cfg.max_clips)

    def forward(self, clips: Tensor) -> Tensor:
        """``(B, S, D)`` -> ``(B, S, D)``."""
        x = self.pos_encoder(clips.transpose(0, 1))  # (S, B, D)
        return self.encoder(x).transpose(0, 1)  # (B, S, D)


class MultiHeadDecoder(nn.Module):
    """One ``Linear(D -> verbs + nouns)`` per future step (``projections``), after dropout.

    Args:
        dim: input size.
        steps: Z, number of heads.
        num_classes: verbs + nouns.
        dropout: dropout rate.
    """

    def __init__(self, dim: int, steps: int, num_classes: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.projections = nn.ModuleList(nn.Linear(dim, num_classes) for _ in range(steps))

    def forward(self, x: Tensor) -> Tensor:
        """``(B, D)`` -> ``(B, Z, verbs + nouns)``."""
        x = self.dropout(x)
        return torch.stack([p(x) for p in self.projections], dim=1)  # (B, Z, C)


class LTAModel(TSModel):
    """Long-term action anticipation from S = 2 observed clips.

    Batch: ``slow`` (B, S, 3, 8, H, W), ``fast`` (B, S, 3, 32, H, W). ``forward`` returns
    ``{"verb": (B, Z, 115), "noun": (B, Z, 478)}`` logits; ``tokens`` returns ``{"clips": (B, S, D)}``,
    the aggregator output; ``stream_dims`` is ``{"clips": D}`` (2048 full, 64 tiny).

    Args:
        cfg: sizes.
        num_verbs: verb classes.
        num_nouns: noun classes.
    """

    task = "lta"

    def __init__(self, cfg: LTAConfig, num_verbs: int = NUM_VERBS, num_nouns: int = NUM_NOUNS) -> None:
        super().__init__()
        self.cfg = cfg
        self.num_classes = (num_verbs, num_nouns)
        self.backbone = SlowFast(cfg.backbone, head_dim=cfg.clip_dim)
        self.clip_aggregator = TransformerAggregator(cfg)
        self.decoder = MultiHeadDecoder(cfg.clip_dim, cfg.steps, num_verbs + num_nouns, cfg.dropout)
        self.stream_dims: dict[str, int] = {"clips": cfg.clip_dim}
        if cfg.freeze_backbone:
            for name, p in self.backbone.named_parameters():
                p.requires_grad_(name.startswith("head."))

    def train(self, mode: bool = True) -> LTAModel:
        """A frozen backbone stays in eval mode (its BatchNorm statistics cannot drift); its trainable
        clip head follows ``mode``. (The authors' release let Lightning switch it back to train mode.)"""
        super().train(mode)
        if self.cfg.freeze_backbone:
            self.backbone.eval()
            self.backbone.head.train(mode)
        return self

    def init_backbone_from(self, ar_model: nn.Module) -> None:
        """Copy the SlowFast weights of a trained AR model (its head excluded), as the authors did."""
        source = getattr(ar_model, "backbone", ar_model)
        state = {k: v for k, v in source.state_dict().items() if not k.startswith("head.")}
        ours = {k: v.shape for k, v in self.backbone.state_dict().items() if not k.startswith("head.")}
        wrong = sorted(
            k for k in ours.keys() | state.keys() if ours.get(k) != getattr(state.get(k), "shape", None)
        )
        if wrong:
            raise UserInputError(
                f"the AR backbone does not match the LTA backbone ({len(wrong)} keys differ, e.g. {wrong[:3]})",
                field="backbone",
            )
        self.backbone.load_state_dict(state, strict=False)

    def clip_features(self, batch: Batch) -> Tensor:
        """Per-clip backbone outputs before the aggregator, ``(B, S, D)``."""
        slow, fast = slowfast_inputs(batch, self.cfg.backbone.alpha, clips=True)
        return torch.stack([self.backbone(slow[:, i], fast[:, i]) for i in range(slow.shape[1])], dim=1)

    def tokens(self, batch: Batch) -> dict[str, Tensor]:
        """``{"clips": (B, S, D)}``: the transformer encoding of every observed clip."""
        return {"clips": self.clip_aggregator(self.clip_features(batch))}

    def forward(self, batch: Batch) -> dict[str, Tensor]:
        encoded = self.tokens(batch)["clips"]  # (B, S, D)
        logits = self.decoder(encoded[:, -1])  # (B, Z, V + N)
        verb, noun = torch.split(logits, list(self.num_classes), dim=-1)
        return {"verb": verb, "noun": noun}

    def loss(self, outputs: Mapping[str, Tensor], labels: Mapping[str, Tensor]) -> Tensor:
        """Sum over the Z steps and both heads of the CE averaged over the batch, as the Ego4D baseline.

        That is Z times :func:`egot2.tasks.losses.task_loss`, which averages over the steps too.
        """
        ys = {k: get_labels(labels, k, outputs[k].shape[:2], outputs[k].shape[2]) for k in ("verb", "noun")}
        return self.spec.compute_loss(outputs, ys) * outputs["verb"].shape[1]

    @torch.no_grad()
    def sample_candidates(
        self, outputs: Mapping[str, Tensor], k: int = 5, generator: torch.Generator | None = None
    ) -> dict[str, Tensor]:
        """K candidate sequences per head: candidate 0 is the argmax, the others are drawn from the softmax.

        (The Ego4D baseline's ``generate`` draws all K; keeping the argmax as candidate 0 makes ED@Z
        never worse than greedy decoding.)

        Args:
            outputs: ``forward`` output, ``verb`` (B, Z, V) and ``noun`` (B, Z, N) logits.
            k: candidates per item.
            generator: random generator; the same seed gives the same candidates.

        Returns:
            ``{"verb": (B, K, Z), "noun": (B, K, Z)}`` int64 class ids.
        """
        if k < 1:
            raise UserInputError(f"k must be >= 1, got {k}", field="k")
        out = {}
        for key in ("verb", "noun"):
            logits = outputs[key].float()
            b, z, c = logits.shape
            best = logits.argmax(dim=-1).unsqueeze(1)  # (B, 1, Z)
            if k == 1:
                out[key] = best
                continue
            probs = logits.softmax(dim=-1).reshape(b * z, c)  # (B*Z, C)
            if generator is not None:
                probs = probs.to(generator.device)
            drawn = torch.multinomial(probs, k - 1, replacement=True, generator=generator).to(best.device)
            drawn = drawn.reshape(b, z, k - 1).transpose(1, 2)  # (B, K-1, Z)
            out[key] = torch.cat([best, drawn], dim=1)  # (B, K, Z)
        return out


def build_lta(size: str = "tiny") -> LTAModel:
    """The LTA TS model at ``size`` (``"full"``: 242.05M parameters, 180.14M trainable, as released)."""
    return LTAModel(lta_config(size))
