"""argparse's own words ("usage:", "options:", "invalid choice: …") in the CLI's language.

argparse looks its messages up with gettext's default domain, for which Python ships no catalogues. The
ones a user of `visualcnn` can meet are listed here (marked, so they are in visualcnn's catalogue) and,
while `translated_argparse()` is active, argparse asks visualcnn's catalogue first. Their English is
argparse's own text (Python 3.11–3.13); a message a later Python words differently stays English.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

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

@contextmanager
def translated_argparse() -> Iterator[None]:
    """While active, argparse's messages come from visualcnn's catalogue (argparse's own English otherwise)."""
    before = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = _, ngettext     # argparse reads both globals at each message
    try:
        yield
    finally:
        argparse._, argparse.ngettext = before


__all__ = ["MESSAGES", "translated_argparse"]
