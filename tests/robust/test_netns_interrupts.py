"""``netns up`` interrupted at random moments leaves no namespace, link or mount behind and prints one line
(issue #22). CI runs a few rounds; before a release run a hundred (docs/limits.md):

    CNIMODEL_INTERRUPTS=100 python tests/robust/interrupts.py
"""

from __future__ import annotations

import os
from pathlib import Path

import interrupts
import pytest

from cnimodel.kernel import nsutil

pytestmark = pytest.mark.skipif(nsutil.can_admin() is not None,
                                reason=f"netns tests need root: {nsutil.can_admin()}")


def test_interrupted_netns_up_leaves_nothing_behind(tmp_path: Path) -> None:
    rounds = int(os.environ.get("CNIMODEL_INTERRUPTS", "6"))
    tally = interrupts.run(rounds, tmp_path, seed=os.getpid())
    assert tally.failures == [], "\n".join(tally.failures)
    assert tally.rounds == rounds


def test_the_holding_handler_defers_an_interrupt_to_the_end_of_a_section() -> None:
    import signal

    from cnimodel.kernel import interrupts as held

    done = []
    with pytest.raises(KeyboardInterrupt), held.guarded():
        with held.held():
            signal.raise_signal(signal.SIGINT)
            done.append("the section ran to its end")
        done.append("not reached")
    assert done == ["the section ran to its end"]
