"""Every template the app synthesizes passes cfn-lint: one cfn-lint run for all of them (its start-up,
loading the resource specifications, is most of a run's five to eight seconds)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.infra.conftest import ROOT


def test_every_template_passes_cfn_lint(synthesized, configured_synthesized, members, enforcing_member, hub):
    outs = {out for _, out in (synthesized, configured_synthesized, enforcing_member, hub, *members.values())}
    templates = sorted(str(t) for out in outs for t in out.glob("*.template.json"))
    assert len(templates) == 6  # the stack twice (default, configured), two member regions, enforcing member, hub
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    done = subprocess.run(
        [str(cfn_lint), "--config-file", str(ROOT / ".cfnlintrc.yaml"), *templates],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr  # cfn-lint names the file of each finding
