"""pytest configuration of the project: makes the project root importable, so that tests (and
the code they load) can `import service`, `import common` and `import pipeline` from any
working directory."""
import os
import sys

PROJECT_ROOT = os.path.dirname(os.path.abspath(__file__))
if PROJECT_ROOT not in sys.path:
    sys.path.insert(0, PROJECT_ROOT)
