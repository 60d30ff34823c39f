"""Built-in layers, one file per family, and the registry the spec resolves types with."""

from __future__ import annotations

from .activations import ReLU, Sigmoid, Tanh
from .base import BuildError, Field, Layer
from .conv import Conv2D
from .dense import Dense, Flatten
from .pool import AvgPool2D, LpPool2D, MaxPool2D

#: spec "type" -> layer class, in the order menus list them
LAYER_TYPES: dict[str, type[Layer]] = {
    cls.type_name: cls
    for cls in (Conv2D, MaxPool2D, AvgPool2D, LpPool2D, Sigmoid, ReLU, Tanh, Flatten, Dense)
}

__all__ = [
    "LAYER_TYPES", "AvgPool2D", "BuildError", "Conv2D", "Dense", "Field", "Flatten", "Layer",
    "LpPool2D", "MaxPool2D", "ReLU", "Sigmoid", "Tanh",
]
