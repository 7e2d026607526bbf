"""Stage II with unfrozen TS models (paper Table 4 (c), ``train.unfreeze_ts``): gradients reach the TS
models, frozen training leaves them untouched, a cache is refused, and the run keeps and evaluates the
fine-tuned models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from egot2.backbones.zoo import load_ts_model
from egot2.cli import main
from egot2.config import load_config
from egot2.errors import UserInputError
from egot2.features import online as online_mod
from egot2.features.online import OnlineInputs, collate_inputs, online_builder
from egot2.methods import build_model, model_layout
from egot2.training.stage2 import evaluate_run, train_stage2
from egot2.training.unfrozen import WithTS
from egot2.utils.params import count_parameters

TASKS = ("ttm", "lam", "asd")
TRANSLATOR = ["model.translator.dim=16", "model.translator.heads=2", "model.translator.ffn=32",
              "model.translator.dropout=0.0", "model.translator.positions=task-sinusoidal"]


def _cfg(*extra: str):  # noqa: ANN202
    return load_config([], ["model.primary=ttm", "model.aux=[lam,asd]", *TRANSLATOR, "train.batch_size=4",
                            "train.epochs=1", *extra])


def _states(models: dict) -> dict[str, dict[str, torch.Tensor]]:
    return {t: {k: v.clone() for k, v in m.state_dict().items()} for t, m in models.items()}


def _changed(before: dict[str, torch.Tensor], after: dict[str, torch.Tensor]) -> set[str]:
    return {k for k in before if not torch.equal(before[k], after[k])}


def test_unfrozen_steps_train_the_ts_models(tiny_world: Path, ts_runs: dict[str, Path]) -> None:
    cfg = _cfg()
    builder = online_builder("ttm", tiny_world, [ts_runs[t] for t in TASKS], model_layout(cfg.model))
    data = OnlineInputs("ttm", tiny_world, "train", builder)
    batch = collate_inputs([data[i] for i in range(min(4, len(data)))])
    probe = builder.finish(batch["inputs"][0])[0]
    cfg.model.dims = {k: int(v.shape[-1]) for k, v in probe.items()}
    net = WithTS(build_model(cfg.model), builder).train()
    before = _states(builder.models)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    spec = net.model.primary
    losses = []
    for _ in range(6):
        opt.zero_grad()
        loss = spec.compute_loss(net(batch), batch["labels"])
        loss.backward()
        if not losses:  # the translator's loss reaches every TS model
            for t, m in net.ts.items():
                assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in m.parameters()), t
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    for t, m in builder.models.items():
        changed = _changed(before[t], m.state_dict())
        assert any("running_mean" in k for k in changed), t  # train mode: BatchNorm statistics move
        assert any("weight" in k for k in changed), t


def test_frozen_online_training_leaves_the_ts_models_untouched(tiny_world: Path, ts_runs: dict[str, Path],
                                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict] = []
    load = online_mod.load_models

    def recording(ts: list[Path]) -> dict:
        seen.append(load(ts))
        return seen[-1]

    monkeypatch.setattr(online_mod, "load_models", recording)
    info = train_stage2(_cfg(), None, tmp_path / "run", online=(tiny_world, [ts_runs[t] for t in TASKS]),
                        progress=False)
    (loaded,) = seen
    for t, m in loaded.items():
        fresh = load_ts_model(ts_runs[t]).model.state_dict()
        assert not _changed(fresh, m.model.state_dict()), t  # bitwise, BatchNorm buffers included
    assert not (tmp_path / "run" / "ts").exists()
    model = build_model(_cfg(*[f"model.dims={json.dumps(_dims(tmp_path / 'run'))}"]).model)
    assert info["trainable_params"] == count_parameters(model).trainable


def _dims(run: Path) -> dict[str, int]:
    import yaml

    return yaml.safe_load((run / "config.yaml").read_text())["model"]["dims"]


def test_unfreeze_with_a_cache_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["train", "--primary", "ttm", "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "run"),
               "train.unfreeze_ts=true"])
    assert rc == 2 and "train.unfreeze_ts" in capsys.readouterr().err
    with pytest.raises(UserInputError, match="--online"):
        train_stage2(_cfg("train.unfreeze_ts=true"), tmp_path / "cache", tmp_path / "run", progress=False)


def test_unfrozen_run_keeps_and_evaluates_the_fine_tuned_models(tiny_world: Path, ts_runs: dict[str, Path],
                                                                tmp_path: Path) -> None:
    ts = [ts_runs[t] for t in TASKS]
    run = tmp_path / "run"
    info = train_stage2(_cfg("train.unfreeze_ts=true", "train.lr=0.01", "train.epochs=2"), None, run,
                        online=(tiny_world, ts), progress=False)
    saved = json.loads((run / "run.json").read_text())
    assert saved["unfreeze_ts"] and saved["online"]["ts"] == [f"ts/{t}" for t in TASKS]
    translator = count_parameters(build_model(_cfg(f"model.dims={json.dumps(_dims(run))}").model)).trainable
    ts_params = sum(count_parameters(load_ts_model(p).model).total for p in ts)
    assert info["trainable_params"] == translator + ts_params
    for t in TASKS:  # the run holds fine-tuned TS runs, other weights than the ones it started from
        tuned = load_ts_model(run / "ts" / t).model.state_dict()
        assert _changed(load_ts_model(ts_runs[t]).model.state_dict(), tuned), t
    result = evaluate_run(run, "val")
    assert result["metrics"]["acc"] == pytest.approx(info["val"]["acc"], abs=1e-12)  # (mAP: undefined, one class)
    tuned_predictions = Path(result["predictions"]).read_text()
    frozen = tmp_path / "frozen"  # the same translator over the original TS models predicts otherwise
    shutil.copytree(run, frozen)
    (frozen / "run.json").write_text(json.dumps({**saved, "online": {**saved["online"], "ts": [str(p) for p in ts]}}))
    assert Path(evaluate_run(frozen, "val")["predictions"]).read_text() != tuned_predictions
    from egot2.features.extract import extract

    extract("ttm", tiny_world, ts, tmp_path / "cache", aux=["lam", "asd"], splits=["val"], progress=False)
    with pytest.raises(UserInputError, match="fine-tuned"):  # a cache of the original TS models does not fit
        evaluate_run(run, "val", cache=tmp_path / "cache")


def test_params_count_the_unfrozen_ts_models(tmp_path: Path) -> None:
    from egot2.cli.params import config_params, frozen_ts_params

    frozen, unfrozen = tmp_path / "frozen.yaml", tmp_path / "unfrozen.yaml"
    frozen.write_text("model: {primary: ttm, translator: {positions: task-sinusoidal}}\n")
    unfrozen.write_text("model: {primary: ttm, translator: {positions: task-sinusoidal}}\ntrain: {unfreeze_ts: true}\n")
    a, b = config_params([str(frozen), str(unfrozen)])
    ts = frozen_ts_params(["ttm", "lam", "asd"])
    assert b["trainable"] == a["trainable"] + ts and b["total"] == a["total"]  # paper Table 4 (c): all trained
