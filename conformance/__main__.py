"""``python -m conformance`` is the ``cekura-conformance`` command."""

import sys

from conformance.cli import main

sys.exit(main())
