"""Where the bundled assets and the download cache live on this machine."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import platformdirs

# Set to a directory to use assets from elsewhere (e.g. a non-editable install).
ASSETS_ENV_VAR = "VISUALCNN_ASSETS"


def assets_dir() -> Path:
    """The bundled assets (digits, presets, lessons, the layer template).

    An installed visualcnn (wheel, `pip install .`, pipx) carries them as the folder `assets` inside the
    package, found through importlib.resources; a checkout (editable install) keeps them in the top-level
    `assets/` beside the package. The environment variable VISUALCNN_ASSETS overrides both.
    """
    override = os.environ.get(ASSETS_ENV_VAR)
    if override:
        return Path(override).expanduser().resolve()
    packaged = resources.files("visualcnn") / "assets"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "assets"


def cache_dir() -> Path:
    """The per-user cache directory for downloaded data sets (not created here)."""
    return Path(platformdirs.user_cache_dir("visualcnn"))
