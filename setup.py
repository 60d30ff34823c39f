"""The one packaging step pyproject.toml cannot declare: the top-level `assets/` folder (presets, digits,
lessons, the layer template) is copied into the built package as `visualcnn/assets`, so a wheel, `pip install .`
or `pipx install` carries its data and finds it through importlib.resources (visualcnn.data.paths.assets_dir).
The checkout keeps `assets/` at the top level; an editable install reads it there."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ASSETS = Path(__file__).resolve().parent / "assets"


class BuildPyWithAssets(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "visualcnn" / "assets"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(ASSETS, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))


setup(cmdclass={"build_py": BuildPyWithAssets})
