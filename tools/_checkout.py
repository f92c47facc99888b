"""Imported first by every benchmark: time this checkout's cnimodel, not whatever copy was installed last."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
