"""The shared stylesheet and script, served by each service from `/assets/…` on its own origin."""
from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Blueprint, send_from_directory

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES_DIR = Path(__file__).parent / "templates"   # holds tillkey/layout.html, the page frame
URL_PATH = "/assets"


def assets_blueprint() -> Blueprint:
    """A fresh blueprint per call: each app (and each test app) registers its own."""
    bp = Blueprint("tillkey_assets", __name__, static_folder=str(STATIC_DIR), static_url_path=URL_PATH,
                   template_folder=str(TEMPLATES_DIR))
    # Browsers ask every origin for /favicon.ico; a 404 there is a console error on each page.
    bp.add_url_rule("/favicon.ico", "favicon", lambda: send_from_directory(
        STATIC_DIR, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400))
    return bp


@cache
def _version(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def asset_url(name: str) -> str:
    """`/assets/tillkey.css?v=<content hash>`: a changed file gets a new URL, so no stale cache."""
    return f"{URL_PATH}/{name}?v={_version(name)}"
