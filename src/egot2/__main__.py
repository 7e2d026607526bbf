"""``python -m egot2`` runs the command line."""

import sys

from egot2.cli import main

sys.exit(main())
