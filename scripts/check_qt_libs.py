"""Check that Qt's system libraries are present; say which are missing and how to install them.

Run by `make run` and `make test` before anything imports PyQt6, so a missing
library is one clear message instead of an ImportError from deep inside Qt.
On CI (CI=true, running as root) the missing Debian packages are installed.
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
import subprocess
import sys

# library name for ctypes.util.find_library -> Debian package that provides it
REQUIRED = {
    "EGL": "libegl1",
    "GL": "libgl1",
    "xkbcommon": "libxkbcommon0",
    "fontconfig": "libfontconfig1",
    "dbus-1": "libdbus-1-3",
}


def missing_libraries() -> dict[str, str]:
    return {lib: pkg for lib, pkg in REQUIRED.items() if ctypes.util.find_library(lib) is None}


def main() -> int:
    missing = missing_libraries()
    if not missing:
        return 0
    packages = " ".join(sorted(set(missing.values())))
    names = ", ".join(f"lib{lib}" for lib in missing)
    can_install = (
        os.environ.get("CI") == "true" and hasattr(os, "geteuid") and os.geteuid() == 0
        and shutil.which("apt-get")
    )
    if can_install:
        print(f"Qt needs {names}; installing {packages} (CI, root).", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing.values()], check=False, env=env)
        missing = missing_libraries()
        if not missing:
            return 0
    print(
        f"visualcnn: Qt's system libraries are missing: {names}.\n"
        f"  Install them with:  sudo apt-get install {packages}\n"
        f"  (Fedora: sudo dnf install mesa-libEGL mesa-libGL libxkbcommon fontconfig dbus-libs)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
