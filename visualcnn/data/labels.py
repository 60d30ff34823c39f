"""Class names as a view shows them: a bundled set's names in the current language, any other name as it is.

A data set's `class_names` are data — saved with a session, compared, the same in every language — so they
stay English in the Dataset; `class_label` translates the bundled sets' names (bars, shapes, colour-shapes,
Fashion-MNIST) where they are shown. A user's own names (an .npz's class_names) are shown as they are.
"""

from __future__ import annotations

from visualcnn.i18n import _

from .colour import COLOURS
from .idx import FASHION_CLASSES
from .synthetic import BARS_CLASSES, SHAPES_CLASSES

#: every class name of a bundled set that has a translation
KNOWN = frozenset(BARS_CLASSES + SHAPES_CLASSES + FASHION_CLASSES)


def class_label(name: str) -> str:
    """'circle' → '円', 'red circle' → '赤の円' in Japanese; names of the user's own data unchanged."""
    name = str(name)
    if name in KNOWN:
        return _(name)
    colour, _sep, shape = name.partition(" ")
    if colour in COLOURS and shape in SHAPES_CLASSES:
        return _("{colour} {shape}").format(colour=_(colour), shape=_(shape))
    return name


__all__ = ["KNOWN", "class_label"]
