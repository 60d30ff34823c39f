"""The command line's argparse side: argument types that refuse in words, and argparse's own words
("usage:", "options:", "invalid choice: …") in the CLI's language.

argparse looks its messages up with gettext's default domain, for which Python ships no catalogues. The
ones a user of `visualcnn` can meet are listed here (marked, so they are in visualcnn's catalogue) and,
while `translated_argparse()` is active, argparse asks visualcnn's catalogue first. Their English is
argparse's own text (Python 3.11–3.13); a message a later Python words differently stays English.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from visualcnn.i18n import N_, _, ngettext

MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("unrecognized arguments: %s"),
    N_("the following arguments are required: %s"),
    N_("one of the arguments %s is required"),
    N_("not allowed with argument %s"),
    N_("ignored explicit argument %r"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("invalid %(type)s value: %(value)r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("can't open '%(filename)s': %(error)s"),
)


def whole_number(minimum: int, maximum: int | None = None, what: str | None = None) -> Any:
    """An argparse type for a whole number in [minimum, maximum] ("a seed must be …" when `what` is given)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(_("expected a whole number, got {text!r}").format(text=text)) from None
        if value < minimum or (maximum is not None and value > maximum):
            if maximum is None:
                message = _("expected a whole number >= {minimum}, got {value}")
            elif what:
                message = _("{what} must be a whole number from {minimum} to {maximum}, got {value}")
            else:
                message = _("expected a whole number from {minimum} to {maximum}, got {value}")
            raise argparse.ArgumentTypeError(message.format(what=_(what) if what else "", minimum=minimum,
                                                            maximum=maximum, value=value))
        return value
    return parse


def seed(text: str) -> int:
    """An argparse type for a seed: a whole number 0 … limits.MAX_SEED."""
    from .limits import MAX_SEED
    return whole_number(0, MAX_SEED, N_("a seed"))(text)


positive_int = whole_number(1)
number_of_phases = whole_number(0, 100_000)


def number(minimum: float, inclusive: bool) -> Any:
    """An argparse type for a finite number >= minimum (or > minimum)."""
    def parse(text: str) -> float:
        import math
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(_("expected a number, got {text!r}").format(text=text)) from None
        ok = math.isfinite(value) and (value >= minimum if inclusive else value > minimum)
        if not ok:
            message = (_("expected a finite number >= {minimum}, got {text}") if inclusive
                       else _("expected a finite number > {minimum}, got {text}"))
            raise argparse.ArgumentTypeError(message.format(minimum=f"{minimum:g}", text=text))
        return value
    return parse


def size(text: str) -> tuple[int, int]:
    """An argparse type for an image size WIDTHxHEIGHT, each 200 … 8000."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("expected WIDTHxHEIGHT like 1600x1000, got {text!r}").format(text=text)) from None
    if not (200 <= w <= 8000 and 200 <= h <= 8000):
        raise argparse.ArgumentTypeError(
            _("width and height must be between 200 and 8000, got {width}x{height}").format(width=w, height=h))
    return w, h


@contextmanager
def translated_argparse() -> Iterator[None]:
    """While active, argparse's messages come from visualcnn's catalogue (argparse's own English otherwise)."""
    before = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = _, ngettext     # argparse reads both globals at each message
    try:
        yield
    finally:
        argparse._, argparse.ngettext = before


__all__ = ["MESSAGES", "number", "number_of_phases", "positive_int", "seed", "size", "translated_argparse",
           "whole_number"]
