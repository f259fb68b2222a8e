"""A full disk, an unwritable run folder, and files from elsewhere that would run code.

The disk is made to fail by injecting the OSError a full file system raises (ENOSPC) into the
writes, after the run has started; the hostile files are real pickles whose loading with
`weights_only=False` runs code (each test first shows that it does).
"""

from __future__ import annotations

import errno
import logging
import pickle
from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch

from ganarena import run_record, storage
from ganarena.checkpoints import WritesRefused, is_complete, read_checkpoint, stopped_writing
from ganarena.data import DigitsDataModule
from ganarena.data.cifar_format import read_cifar_batches
from ganarena.errors import GanArenaError
from ganarena.features.base import FeatureUnavailable
from ganarena.features.classifier import CHECKPOINT_FORMAT, DomainClassifierFeatures
from ganarena.features.factory import FeatureSpec, ensure_classifier
from ganarena.features.inception import load_inception
from ganarena.metrics.feature_bank import FeatureBank
from ganarena.training import train

from .helpers import FAST, STEPS, last

FULL = OSError(errno.ENOSPC, "No space left on device")


# --- a full disk --------------------------------------------------------------------------------


def test_a_refused_atomic_write_names_the_file_and_leaves_the_old_one_and_no_partial(
    tmp_path: Path,
) -> None:
    target = tmp_path / "stats.pt"
    target.write_bytes(b"the old file")

    def fills_the_disk(partial: Path) -> None:
        partial.write_bytes(b"half of a ")
        raise OSError(errno.ENOSPC, "No space left on device")  # as a write() raises it: no name

    with pytest.raises(OSError) as error:
        storage.replace_atomically(target, fills_the_disk)
    assert error.value.errno == errno.ENOSPC and error.value.filename == str(target)
    assert target.read_bytes() == b"the old file"
    assert [p.name for p in tmp_path.iterdir()] == ["stats.pt"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_a_torch_save_onto_a_full_device_is_an_oserror_not_a_runtime_error() -> None:
    """torch.save onto a path reports a full disk as a RuntimeError of its C++ writer; written
    through a Python file, as `storage.save_atomically` does, it is the OSError(ENOSPC)."""
    with pytest.raises(OSError) as error:
        storage.torch_save({"features": torch.zeros(100_000)}, Path("/dev/full"))
    assert error.value.errno == errno.ENOSPC


class FullDisk:
    """From the first checkpoint write on, every write fails with ENOSPC, after putting half
    a file where the checkpoint was going: as when the disk fills up during training."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, good: bytes) -> None:
        self.full = False

        def save_checkpoint(trainer: pl.Trainer, filepath, *args, **kwargs) -> None:
            self.full = True
            Path(filepath).write_bytes(good[: len(good) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        def write_text(text: str, path: Path) -> Path:
            if self.full:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
            return storage.write_text_atomically(text, path)

        monkeypatch.setattr(pl.Trainer, "save_checkpoint", save_checkpoint)
        monkeypatch.setattr(run_record, "write_text_atomically", write_text)


@pytest.mark.parametrize(
    "writer",
    [
        ["callbacks.last_checkpoint.every_n_steps=1", "~callbacks.model_checkpoint"],
        ["callbacks.model_checkpoint.every_n_train_steps=2"],  # epoch_000.ckpt at step 1
    ],
    ids=["last.ckpt", "epoch_000.ckpt"],
)
def test_a_full_disk_stops_the_run_with_one_line_and_keeps_the_last_complete_checkpoint(
    compose_config, tmp_path, monkeypatch, caplog, writer
) -> None:
    run = tmp_path / "run"
    common = [*STEPS, "+trainer.limit_train_batches=4"]
    train(compose_config(*common, "train_steps=2", output_dir=run))
    good = last(run).read_bytes()
    FullDisk(monkeypatch, good)
    with caplog.at_level(logging.INFO), pytest.raises(WritesRefused) as error:
        train(compose_config(*common, *writer, "train_steps=4", "resume=auto", output_dir=run))
    message = str(error.value)
    assert "\n" not in message and message.startswith("the run stopped: cannot write in")
    assert f"({FULL.strerror})" in message and str(run) in message
    assert f"the last complete checkpoint is {last(run)}" in message and "resume=auto" in message
    assert error.value.__cause__ is None and error.value.__suppress_context__
    assert last(run).read_bytes() == good  # whole, as it was
    assert all(is_complete(p) for p in (run / "checkpoints").iterdir())  # no partial file
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [
        f"could not write {run / 'run.json'} (No space left on device): this run's outcome "
        "(failed) is not recorded there"
    ]


def test_a_run_that_finishes_but_cannot_write_run_json_says_so_in_one_line(
    compose_config, tmp_path, monkeypatch, caplog
) -> None:
    writes = []

    def full_after_the_first(text: str, path: Path) -> Path:
        writes.append(path)
        if len(writes) > 1:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return storage.write_text_atomically(text, path)

    monkeypatch.setattr(run_record, "write_text_atomically", full_after_the_first)
    run = tmp_path / "run"
    with caplog.at_level(logging.ERROR):
        train(compose_config(*FAST, output_dir=run))
    (line,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert line == (
        f"could not write {run / 'run.json'} (No space left on device): this run's outcome "
        "(finished) is not recorded there"
    )
    assert is_complete(last(run))


def test_an_unwritable_run_folder_stops_before_training_with_one_line(
    compose_config, tmp_path, monkeypatch
) -> None:
    def denied(text: str, path: Path) -> Path:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(run_record, "write_text_atomically", denied)
    run = tmp_path / "run"
    with pytest.raises(GanArenaError) as error:
        train(compose_config(*FAST, output_dir=run))
    message = str(error.value)
    assert message.startswith(f"could not write {run / 'run.json'} (Permission denied): make")
    assert "hydra.run.dir=" in message and "\n" not in message
    assert not (run / "checkpoints").exists()  # stopped before training


# --- files that would run code ------------------------------------------------------------------


class RunsCode:
    """Unpickled with the full pickle machinery, this writes `marker`: what any code could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"import pathlib; pathlib.Path({str(self.marker)!r}).write_text('ran')",))


@pytest.fixture
def hostile(tmp_path: Path):
    """hostile(path, payload): torch.save `payload` with code that runs on a full unpickling
    under its "evil" key; checks that it does run that way, then clears the evidence."""
    marker = tmp_path / "code-ran"

    def write(path: Path, payload: dict) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({**payload, "evil": RunsCode(marker)}, path)
        torch.load(path, weights_only=False)  # the test's own proof that the file is hostile
        assert marker.read_text() == "ran"
        marker.unlink()
        return path

    write.marker = marker
    return write


def test_a_hostile_classifier_file_given_by_path_is_refused_in_one_line(hostile, tmp_path):
    path = hostile(tmp_path / "classifier.pt", {"format": CHECKPOINT_FORMAT})
    with pytest.raises(GanArenaError) as error:
        DomainClassifierFeatures(path)
    message = str(error.value)
    assert message.startswith(f"domain classifier '{path}' cannot be read as weights only")
    assert message.endswith("train one with python src/train_classifier.py data=NAME")
    assert "\n" not in message and not hostile.marker.exists()


def test_a_hostile_cached_classifier_is_trained_again_with_one_line(hostile, tmp_path, caplog):
    datamodule = DigitsDataModule()
    datamodule.setup("fit")
    spec = FeatureSpec(classifier_dir=str(tmp_path / "classifiers"))
    path = hostile(spec.classifier_file(datamodule), {"format": CHECKPOINT_FORMAT})
    with caplog.at_level(logging.INFO):
        assert ensure_classifier(spec, datamodule) == path
    (line,) = [r.getMessage() for r in caplog.records if "cached domain" in r.getMessage()]
    assert line == (
        f"the cached domain classifier {path} cannot be read as weights only, the one way that "
        "runs no code in it (it names exec, which is not a tensor or a plain "
        "container): training it again"
    )
    assert not hostile.marker.exists()
    assert DomainClassifierFeatures(path).num_classes == 10  # a readable one took its place
    assert torch.load(path, weights_only=True)["format"] == CHECKPOINT_FORMAT


def test_hostile_cached_real_features_are_computed_again_with_one_line(
    hostile, tmp_path, classifier_dir, caplog
) -> None:
    datamodule = DigitsDataModule()
    datamodule.setup("fit")
    extractor = DomainClassifierFeatures(classifier_dir / "digits-8.pt")
    stats = tmp_path / "stats"
    name = f"{datamodule.name}-train-64-{extractor.identity}.pt"
    hostile(stats / name, {"features": torch.zeros(64, 128)})
    with caplog.at_level(logging.INFO):
        real = FeatureBank(datamodule).real(extractor, 64, str(stats), 32)
    (line,) = [r.getMessage() for r in caplog.records if "real features" in r.getMessage()]
    assert line.startswith(f"cached real features {stats / name} cannot be read as weights only")
    assert real.features.shape == (64, 128) and real.features.abs().sum() > 0
    assert not hostile.marker.exists()
    assert torch.load(stats / name, weights_only=True)["features"].shape == (64, 128)


def test_a_hostile_checkpoint_is_refused_in_one_line(hostile, tmp_path) -> None:
    path = hostile(tmp_path / "last.ckpt", {"hyper_parameters": {"config": {}}})
    with pytest.raises(GanArenaError, match=r"cannot be read \(it names exec,") as error:
        read_checkpoint(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)
    assert not hostile.marker.exists()


def test_hostile_inception_weights_are_refused_before_torch_fidelity_reads_them(
    hostile, tmp_path
) -> None:
    """torch-fidelity loads a weights file with weights_only=False; the project reads it with
    weights_only=True first and hands torch-fidelity only bytes that passed."""
    path = hostile(tmp_path / "pt_inception.pth", {"Conv2d_1a_3x3.conv.weight": torch.zeros(1)})
    with pytest.raises(FeatureUnavailable, match=f"cannot load '{path}'") as error:
        load_inception(2048, str(path), antialias=False)
    assert "\n" not in str(error.value) and not hostile.marker.exists()


def test_a_hostile_cifar_batch_is_refused_in_one_line(tmp_path: Path) -> None:
    """CIFAR-10's python batches are pickles: read by an unpickler that builds arrays only."""
    marker = tmp_path / "code-ran"
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": RunsCode(marker), "labels": [0]}))
    with pytest.raises(GanArenaError, match="is not a CIFAR-10 batch") as error:
        read_cifar_batches([path])
    assert "which is not an array" in str(error.value) and "\n" not in str(error.value)
    assert not marker.exists()


def test_a_refused_copy_names_the_folder_it_copied_into(tmp_path: Path) -> None:
    """Lightning writes a checkpoint to a temporary file and moves it into place; across file
    systems the move is a copy, whose OSError names the source first and the target second."""
    folder = tmp_path / "run" / "checkpoints"
    copy = OSError(errno.ENOSPC, "No space left on device", "/tmp/tmpabc", None, str(folder / "x"))
    refused = stopped_writing(copy, tmp_path / "run", folder, "the command")
    assert str(refused).startswith(f"the run stopped: cannot write in {folder} (No space left")
    assert str(refused).endswith("no checkpoint was completed: free space there and start again")
    assert stopped_writing(ValueError("not a write"), tmp_path, folder, "") is None
    denied = PermissionError(errno.EACCES, "Permission denied", "/etc/data.npy")
    assert stopped_writing(denied, tmp_path, folder, "") is None  # a read elsewhere: not ours
