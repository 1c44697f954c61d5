"""A round workspace on disk: where each file is, loading its configuration, writing outputs.

Inputs are never modified. Everything the system writes goes under `out/`, and
a set of outputs is written all-or-nothing: rendered in memory first, then each
file replaced atomically, and a file whose bytes are unchanged is left alone.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from scoring.errors import ConfigError
from scoring.rules import Programme, RoundConfig, check_year, merge_overrides, parse_programme, parse_round_config

REPO_ROOT = Path(__file__).resolve().parents[1]
PROGRAMMES_DIR = REPO_ROOT / "data" / "programmes"


def programmes_dir() -> Path:
    return Path(os.environ.get("ROUNDS_PROGRAMMES_DIR") or PROGRAMMES_DIR)


def available_programmes() -> list[str]:
    return sorted(p.stem for p in programmes_dir().glob("*.toml"))


def read_toml(path: Path, label: str) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{label}: file not found") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{label}: not valid TOML: {err}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{label}: not UTF-8 text") from None


def load_programme(programme_id: str, overrides: dict | None = None, source: str = "round.toml") -> Programme:
    path = programmes_dir() / f"{programme_id}.toml"
    if not path.exists():
        raise ConfigError(
            f"{source}: unknown programme {programme_id!r}; available: {', '.join(available_programmes())}"
        )
    data = read_toml(path, f"data/programmes/{path.name}")
    label = f"data/programmes/{path.name}"
    if overrides:
        data = merge_overrides(data, overrides)
        label += f" with [overrides] from {source}"
    return parse_programme(data, label)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def at(cls, path: str | os.PathLike) -> "Workspace":
        root = Path(path).expanduser().resolve()
        if not root.is_dir():
            raise ConfigError(f"{path}: not a folder (a round workspace is a folder with round.toml)")
        if not (root / "round.toml").is_file():
            raise ConfigError(f"{path}: no round.toml here; a round workspace starts with round.toml")
        return cls(root)

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def state_db(self) -> Path:
        return self.out / "round.sqlite"

    @property
    def outbox_db(self) -> Path:
        return self.out / "outbox.sqlite"

    def rel(self, path: Path) -> str:
        return path.resolve().relative_to(self.root).as_posix()

    def load_config(self) -> tuple[RoundConfig, Programme]:
        data = read_toml(self.root / "round.toml", "round.toml")
        config = parse_round_config(data, "round.toml")
        programme = load_programme(config.programme, config.overrides, "round.toml")
        check_year(programme, config.year, "round.toml")
        return config, programme

    def write_outputs(self, files: dict[str, bytes]) -> list[str]:
        """Write every file under out/ all-or-nothing; returns the names that changed."""
        self.out.mkdir(exist_ok=True)
        changed = write_files({self.out / name: data for name, data in files.items()})
        return [p.relative_to(self.out).as_posix() for p in changed]


def write_files(files: dict[Path, bytes]) -> list[Path]:
    """Write several files all-or-nothing: each is staged beside its target (fsynced), then all are
    renamed into place; a file whose bytes are unchanged is left alone. Returns the paths written."""
    staged: list[tuple[Path, Path]] = []
    try:
        for target, data in sorted(files.items()):
            if target.is_file() and target.read_bytes() == data:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".staging-", dir=target.parent)
            os.fchmod(fd, 0o644)  # outputs are for people to read; mkstemp makes them private
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            staged.append((Path(tmp), target))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
    return [target for _, target in staged]
