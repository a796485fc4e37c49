"""Golden sample messages, one per (type, version): every consumer's tests load these."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path


def sample_paths() -> list[Path]:
    return sorted(Path(str(resources.files(__name__))).glob("*.json"))


def load_sample(type: str, version: int = 1) -> dict:
    """The golden envelope for `type` as a dict (a fresh copy each call, safe to modify)."""
    path = resources.files(__name__) / f"{type}.v{version}.json"
    return json.loads(path.read_text())
