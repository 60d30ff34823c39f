"""Where the bundled assets and the download cache live on this machine."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

# Set to a directory to use assets from elsewhere (e.g. a non-editable install).
ASSETS_ENV_VAR = "VISUALCNN_ASSETS"


def assets_dir() -> Path:
    """The project's `assets/` directory (bundled digits, presets, icons).

    The project is installed editable (`pip install -e .`), so assets sit beside
    the package in the checkout: <repo>/visualcnn/data/paths.py -> <repo>/assets.
    The environment variable VISUALCNN_ASSETS overrides this.
    """
    override = os.environ.get(ASSETS_ENV_VAR)
    if override:
        return Path(override).expanduser().resolve()
    return Path(__file__).resolve().parents[2] / "assets"


def cache_dir() -> Path:
    """The per-user cache directory for downloaded data sets (not created here)."""
    return Path(platformdirs.user_cache_dir("visualcnn"))
