"""python -m ui [preset | spec.json]: open the debugger window."""

import sys

from .app import main

sys.exit(main())
