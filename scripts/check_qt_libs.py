"""Check that the system libraries Qt will load are present; say which are missing and how to install them.

Run by `make run` and `make test` before anything imports PyQt6, so a missing library is one clear
message instead of "could not load the Qt platform plugin" from deep inside Qt.

What is checked is what will really be loaded: `ldd` of PyQt6's QtWidgets module and of the Qt
platform plugin this session will use — xcb (and libQt6XcbQpa) when an X display is set, wayland
for a Wayland session, offscreen otherwise or when QT_QPA_PLATFORM says so. Every "not found"
file is mapped to the Debian package that ships it, and one `apt-get install` line is printed.
On CI (CI=true, running as root) the missing packages are installed instead.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

#: sonames whose Debian package does not follow the usual libNAME.so.N -> libNAMEN rule
PACKAGE_EXCEPTIONS = {
    "libz.so.1": "zlib1g",
    "libgcc_s.so.1": "libgcc-s1",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
    "libc.so.6": "libc6",
    "libm.so.6": "libc6",
    "libdl.so.2": "libc6",
    "libpthread.so.0": "libc6",
    "librt.so.1": "libc6",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$")
_SONAME = re.compile(r"^(lib.+?)\.so\.(\d+)(?:\.\d+)*$")


def debian_package(soname: str) -> str:
    """The Debian package that ships `soname`: libxcb-icccm.so.4 -> libxcb-icccm4,
    libdbus-1.so.3 -> libdbus-1-3 (a hyphen when the name ends in a digit), libEGL.so.1 -> libegl1."""
    if soname in PACKAGE_EXCEPTIONS:
        return PACKAGE_EXCEPTIONS[soname]
    m = _SONAME.match(soname)
    if m is None:
        return soname
    name, version = m.group(1).lower().replace("_", "-"), m.group(2)
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def missing_from_ldd(output: str) -> list[str]:
    """The sonames `ldd` reported as "not found", in order, without repeats."""
    seen: list[str] = []
    for line in output.splitlines():
        m = _NOT_FOUND.match(line)
        if m and m.group(1) not in seen:
            seen.append(m.group(1))
    return seen


def platform_plugin(env: dict[str, str] | None = None) -> str:
    """The platform plugin Qt will load: QT_QPA_PLATFORM if set, else xcb with an X display,
    wayland with only a Wayland display, offscreen without either."""
    env = os.environ if env is None else env
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if chosen:
        return chosen
    if env.get("DISPLAY"):
        return "xcb"
    if env.get("WAYLAND_DISPLAY"):
        return "wayland"
    return "offscreen"


def qt_files(qt_dir: Path, plugin: str) -> list[Path]:
    """The shared objects to ldd for `plugin`: the QtWidgets module, the plugin, and for xcb libQt6XcbQpa."""
    files = sorted(qt_dir.parent.glob("QtWidgets.*.so"))[:1]
    files.append(qt_dir / "plugins" / "platforms" / f"libq{plugin}.so")
    if plugin == "xcb":
        files.append(qt_dir / "lib" / "libQt6XcbQpa.so.6")
    return [f for f in files if f.exists()]


def find_qt_dir() -> Path | None:
    """PyQt6's bundled Qt (…/PyQt6/Qt6), found without importing PyQt6."""
    spec = importlib.util.find_spec("PyQt6")
    if spec is None or not spec.submodule_search_locations:
        return None
    qt = Path(list(spec.submodule_search_locations)[0]) / "Qt6"
    return qt if qt.is_dir() else None


def run_ldd(path: Path) -> str:
    return subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False).stdout


def missing_libraries(files: list[Path], ldd=run_ldd) -> dict[str, str]:
    """{soname: Debian package} of every library the `files` need that the loader cannot find."""
    out: dict[str, str] = {}
    for f in files:
        for soname in missing_from_ldd(ldd(f)):
            out.setdefault(soname, debian_package(soname))
    return out


def install_line(missing: dict[str, str]) -> str:
    return "sudo apt-get install " + " ".join(sorted(set(missing.values())))


def message(missing: dict[str, str], plugin: str) -> str:
    return (f"visualcnn: Qt's {plugin} platform plugin cannot load: missing {', '.join(missing)}.\n"
            f"  Install them with:  {install_line(missing)}")


def main() -> int:
    qt_dir = find_qt_dir()
    if qt_dir is None or not shutil.which("ldd"):
        return 0            # PyQt6 not installed yet (pip reports that) or not a glibc system: nothing to check
    plugin = platform_plugin()
    files = qt_files(qt_dir, plugin)
    missing = missing_libraries(files)
    if not missing:
        return 0
    can_install = (os.environ.get("CI") == "true" and hasattr(os, "geteuid") and os.geteuid() == 0
                   and shutil.which("apt-get"))
    if can_install:
        packages = sorted(set(missing.values()))
        print(f"Qt needs {', '.join(missing)}; installing {' '.join(packages)} (CI, root).", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=False, env=env)
        missing = missing_libraries(files)
        if not missing:
            return 0
    print(message(missing, plugin), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
