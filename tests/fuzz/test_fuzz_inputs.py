"""Hypothesis against every loader, specs and session descriptions.

Property: whatever the input, a loader returns or raises its own error class with a one-line message —
never another exception (a traceback in the user's face) and never a hang or a huge allocation (sizes
are drawn small or far past the limits). Examples per run are fixed by each max_examples below; with
the corpus and bomb tests the suite tries the count printed at the end of the run ("fuzz: N …").
"""

from __future__ import annotations

import copy
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import tried
from tests.fuzz.corpus import GOOD_SPEC, good_session_bytes, loaders, write
from visualcnn.errors import FileFormatError, SpecError, VisualCNNError

LOADERS = loaders()
FILE_LOADERS = [name for name in LOADERS if name != "idx"]
# examples per run (VISUALCNN_FUZZ_SCALE=10 for a deeper hunt; make test runs scale 1)
SCALE = int(os.environ.get("VISUALCNN_FUZZ_SCALE", "1"))
RANDOM_BYTES = 40 * SCALE           # per loader
MUTATED_BYTES = 30 * SCALE          # per loader
SPECS = 150 * SCALE
METAS = 120 * SCALE

json_scalars = st.one_of(st.none(), st.booleans(), st.text(max_size=12),
                         st.integers(-3, 40), st.integers(2**22, 2**64), st.integers(-(2**64), -1),
                         st.floats(allow_nan=True, allow_infinity=True))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                                  st.dictionaries(st.text(max_size=8), inner,
                                                                                  max_size=4)), max_leaves=12)


def open_bytes(loader: str, data: bytes) -> None:
    suffix, open_, errors, _ = LOADERS[loader]
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), "fuzzed", suffix, data)
        try:
            open_(path)
        except errors as e:
            assert "\n" not in str(e), str(e)


@settings(max_examples=RANDOM_BYTES * len(FILE_LOADERS))
@given(st.sampled_from(FILE_LOADERS), st.binary(max_size=2048))
def test_random_bytes(loader, data):
    tried()
    open_bytes(loader, data)


GOOD = {name: LOADERS[name][3]() for name in FILE_LOADERS}


@settings(max_examples=MUTATED_BYTES * len(FILE_LOADERS))
@given(st.sampled_from(FILE_LOADERS), st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                                               min_size=1, max_size=8), st.floats(0.1, 1.0))
def test_mutated_good_files(loader, flips, keep):
    """A good file with a few bytes changed and maybe its tail cut."""
    tried()
    data = bytearray(GOOD[loader])
    for where, value in flips:
        data[int(where * len(data))] = value
    open_bytes(loader, bytes(data[:max(1, int(len(data) * keep))]))


sizes = st.one_of(st.integers(1, 12), st.integers(2**22, 2**40), st.integers(-5, 0))
layer = st.one_of(
    st.fixed_dictionaries({"type": st.just("conv2d"), "out_channels": sizes, "kernel_size": sizes},
                          optional={"stride": sizes, "padding": sizes, "bias": st.sampled_from(["tied", "untied", 1])}),
    st.fixed_dictionaries({"type": st.sampled_from(["maxpool2d", "avgpool2d", "lppool2d"]), "kernel_size": sizes},
                          optional={"stride": sizes, "p": json_scalars}),
    st.fixed_dictionaries({"type": st.sampled_from(["relu", "sigmoid", "tanh", "flatten"])}),
    st.fixed_dictionaries({"type": st.just("dense"), "out_features": sizes}),
    st.dictionaries(st.text(max_size=10), json_values, max_size=3),
)
specs = st.fixed_dictionaries({"input_shape": st.one_of(st.lists(sizes, min_size=1, max_size=4), json_values),
                               "layers": st.one_of(st.lists(layer, max_size=6), json_values)},
                              optional={"loss": json_values, "extra": json_values})


@settings(max_examples=SPECS)
@given(specs)
def test_specs(spec):
    """Any spec-shaped JSON: a network, or one SpecError (never an allocation past the limits)."""
    from visualcnn.network import Network
    tried()
    try:
        Network.from_spec(spec)
    except SpecError as e:
        assert "\n" not in str(e)


META = json.loads(str(np.load(io.BytesIO(good_session_bytes()))["__meta__"]))
with np.load(io.BytesIO(good_session_bytes())) as _z:
    ARRAYS = {k: _z[k] for k in _z.files if k != "__meta__"}


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            yield from paths(v, (*prefix, i))


META_PATHS = [p for p in paths(META) if p]


@settings(max_examples=METAS)
@given(st.sampled_from(META_PATHS), json_values)
def test_session_descriptions(path, value):
    """A saved session's description with one field replaced by any JSON value: a session or one FileFormatError."""
    from visualcnn.io import load_session
    tried()
    meta = copy.deepcopy(META)
    target = meta
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "fuzzed.vcnn"
        with open(file, "wb") as f:
            np.savez(f, __meta__=np.array(json.dumps(meta)), **ARRAYS)
        try:
            load_session(file)
        except FileFormatError as e:
            assert "\n" not in str(e)
        except VisualCNNError as e:       # every other core error is wrapped, naming the file
            raise AssertionError(f"not wrapped as FileFormatError: {type(e).__name__}: {e}") from None
