"""scripts/check_qt_libs.py: the libraries checked are the ones ldd says the chosen Qt plugin needs."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_qt_libs.py"
spec = importlib.util.spec_from_file_location("check_qt_libs", SCRIPT)
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)

# what ldd printed for PyQt6 6.x's libqxcb.so on a fresh Debian with a display (trimmed)
FAKE_LDD_XCB = """\
\tlinux-vdso.so.1 (0x00007ffc6b5e4000)
\tlibQt6XcbQpa.so.6 => /v/lib/python3.11/site-packages/PyQt6/Qt6/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x7f)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-cursor.so.0 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibdbus-1.so.3 => /lib/x86_64-linux-gnu/libdbus-1.so.3 (0x7f)
\tlibEGL.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibglib-2.0.so.0 => not found
"""


def test_missing_sonames_are_read_from_ldd_once_each():
    assert check.missing_from_ldd(FAKE_LDD_XCB) == [
        "libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0", "libxkbcommon-x11.so.0",
        "libEGL.so.1", "libglib-2.0.so.0"]


@pytest.mark.parametrize("soname, package", [
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libdbus-1.so.3", "libdbus-1-3"),
    ("libEGL.so.1", "libegl1"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libfontconfig.so.1.12.0", "libfontconfig1"),
    ("libglib-2.0.so.0", "libglib2.0-0"),
    ("libz.so.1", "zlib1g"),
])
def test_soname_to_debian_package(soname, package):
    assert check.debian_package(soname) == package


def test_one_install_line_for_all_files(tmp_path):
    files = [tmp_path / "libqxcb.so", tmp_path / "libQt6XcbQpa.so.6"]
    outputs = {files[0]: FAKE_LDD_XCB, files[1]: "\tlibxcb-icccm.so.4 => not found\n\tlibSM.so.6 => not found\n"}
    missing = check.missing_libraries(files, ldd=outputs.__getitem__)
    line = check.install_line(missing)
    assert line == ("sudo apt-get install libegl1 libglib2.0-0 libsm6 libxcb-cursor0 libxcb-icccm4 "
                    "libxcb-keysyms1 libxkbcommon-x11-0")
    text = check.message(missing, "xcb")
    assert "xcb platform plugin" in text and "libxcb-icccm.so.4" in text and text.count("apt-get install") == 1


def test_nothing_missing_means_nothing_to_install(tmp_path):
    assert check.missing_libraries([tmp_path / "x.so"], ldd=lambda _p: "\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") == {}


@pytest.mark.parametrize("env, plugin", [
    ({"DISPLAY": ":0"}, "xcb"),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "wayland"),
    ({}, "offscreen"),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "offscreen"),
])
def test_the_plugin_that_will_load_is_checked(env, plugin, tmp_path):
    assert check.platform_plugin(env) == plugin
    qt = tmp_path / "PyQt6" / "Qt6"
    (qt / "plugins" / "platforms").mkdir(parents=True)
    (qt / "lib").mkdir()
    for name in ("libqxcb.so", "libqoffscreen.so", "libqwayland.so"):
        (qt / "plugins" / "platforms" / name).touch()
    (qt / "lib" / "libQt6XcbQpa.so.6").touch()
    (tmp_path / "PyQt6" / "QtWidgets.abi3.so").touch()
    names = [f.name for f in check.qt_files(qt, plugin)]
    assert names[0] == "QtWidgets.abi3.so" and names[1] == f"libq{plugin}.so"
    assert ("libQt6XcbQpa.so.6" in names) == (plugin == "xcb")
