"""``python -m vipcall.cli`` is the ``vipcall`` command."""

import sys

from vipcall.cli import main

sys.exit(main())
