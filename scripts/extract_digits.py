#!/usr/bin/env python3
"""Extract the UCI handwritten digits from a scikit-learn wheel or installation into assets/digits.npz.

scikit-learn ships the 1,797 8×8 digits (grey levels 0–16) as
`sklearn/datasets/data/digits.csv.gz`: one row per image, 64 pixel values in
row-major order and then the label. visualcnn bundles them without depending on
scikit-learn, so this script is how `assets/digits.npz` was made (and can be
remade):

    pip download --no-deps -d /tmp/skl scikit-learn
    python scripts/extract_digits.py /tmp/skl/scikit_learn-*.whl

The source may be a wheel (.whl), an installed `sklearn` package directory, a
site-packages directory that holds one, or the `digits.csv.gz` file itself.
Output: `images` uint8 (1797, 8, 8) in 0..16 and `labels` uint8 (1797,), written
with np.savez_compressed (about 20 kB).

Data: "Optical Recognition of Handwritten Digits", E. Alpaydin and C. Kaynak,
UCI Machine Learning Repository (https://doi.org/10.24432/C50P49), CC BY 4.0.
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

MEMBER = "sklearn/datasets/data/digits.csv.gz"
N_IMAGES = 1797
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "assets" / "digits.npz"


def read_csv_gz(source: Path) -> bytes:
    """Return the gzip-compressed CSV bytes from a wheel, an install or the file itself."""
    if source.is_file() and zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as wheel:
            try:
                return wheel.read(MEMBER)
            except KeyError:
                sys.exit(f"{source}: no {MEMBER} inside (is this a scikit-learn wheel?)")
    if source.is_file():
        return source.read_bytes()
    # A directory: the sklearn package itself, or a site-packages that contains it.
    for candidate in (source / "datasets" / "data" / "digits.csv.gz", source / MEMBER):
        if candidate.is_file():
            return candidate.read_bytes()
    sys.exit(f"{source}: found neither datasets/data/digits.csv.gz nor {MEMBER} below it; "
             "pass a scikit-learn wheel, the sklearn package directory or site-packages")


def parse(csv_gz: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Parse the CSV into images (N, 8, 8) uint8 in 0..16 and labels (N,) uint8 in 0..9."""
    table = np.loadtxt(io.BytesIO(gzip.decompress(csv_gz)), delimiter=",")
    # Check everything the app later relies on, so a changed upstream file fails here, loudly.
    if table.shape != (N_IMAGES, 65):
        sys.exit(f"digits.csv.gz: expected {N_IMAGES} rows of 65 values, got shape {table.shape}")
    if not np.array_equal(table, np.round(table)):
        sys.exit("digits.csv.gz: expected whole numbers only")
    pixels, labels = table[:, :64], table[:, 64]
    if pixels.min() < 0 or pixels.max() > 16 or labels.min() < 0 or labels.max() > 9:
        sys.exit("digits.csv.gz: expected pixels in 0..16 and labels in 0..9")
    return pixels.reshape(-1, 8, 8).astype(np.uint8), labels.astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path,
                        help="scikit-learn wheel, sklearn package dir, site-packages or digits.csv.gz")
    parser.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT, help=f"output .npz (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    images, labels = parse(read_csv_gz(args.source))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, images=images, labels=labels)
    counts = np.bincount(labels, minlength=10)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): images {images.shape} {images.dtype}, "
          f"labels per class {counts.tolist()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
