"""`python -m visualcnn` is the `visualcnn` command."""

import sys

from .cli import main

sys.exit(main())
