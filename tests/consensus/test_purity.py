"""The engine is a pure core: importing and running it loads no Django (STYLE.md habit 1)."""

from __future__ import annotations

import subprocess
import sys

from tests.support import ROOT

PROGRAM = """
import sys
from tests.consensus.factories import POOL, consensus_input, member, seen
from profiles.consensus import compute
compute(consensus_input([member("a")], [seen("1", "a", POOL)]))
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"django", "rest_framework", "celery", "redis"})
print(",".join(loaded))
"""


def test_computing_a_consensus_loads_no_django() -> None:
    run = subprocess.run([sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == ""
