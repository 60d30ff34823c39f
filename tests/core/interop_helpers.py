"""Helpers shared by the interop tests (core and window)."""

import numpy as np


def same_params(a, b) -> bool:
    """True when networks a and b hold the same parameters, layer by layer, bit for bit (dtype aside)."""
    pa, pb = a.get_params(), b.get_params()
    return len(pa) == len(pb) and all(
        p.keys() == q.keys() and all(np.array_equal(p[k], q[k]) for k in p) for p, q in zip(pa, pb))
