"""A longer run of the property-based fuzzing of malformed Kaggle folders.

``tests/test_fuzz_inputs.py`` runs 12 fixed examples in the test suite; this
runs it with more random examples (default 300; give another number as the
first argument) and prints the outcome::

    PYTHONPATH=. python benchmarks/fuzz_inputs.py 300
"""

import os
import sys
import time

import pytest

if __name__ == "__main__":
    n_examples = sys.argv[1] if len(sys.argv) > 1 else "300"
    os.environ["SKLEARN_MOA_FUZZ_EXAMPLES"] = n_examples
    here = os.path.dirname(os.path.abspath(__file__))
    start = time.perf_counter()
    status = pytest.main(["-q", "-p", "no:cacheprovider",
                          os.path.join(here, "..", "tests", "test_fuzz_inputs.py")])
    print(f"{n_examples} random malformed folders: "
          f"{'no traceback, no wrong submission' if status == 0 else 'FAILED'} "
          f"({time.perf_counter() - start:.0f} s)")
    sys.exit(int(status))
