"""``python -m sklearn_moa.cli``: the ``sklearn-moa`` command without the console script."""

import sys

from ._main import main

sys.exit(main())
