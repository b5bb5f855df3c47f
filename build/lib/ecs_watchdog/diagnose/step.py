"""The probe seam of the pipeline: does a read-only check confirm a failure's cause?

For the deterministic categories (image, secrets, logging, task definition) the probes that can
prove the cause run once per failing revision and category (cached while the container is warm: a
revision never changes), so a confirmed cause opens the incident at the first failure instead of
the third. A probe that errors confirms nothing and never blocks the event. No boto3 here: the
diagnosis is injected (aws/diagnosis.py's diagnose_service in production).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from ecs_watchdog.diagnose.model import Diagnosis
from ecs_watchdog.diagnose.plan import confirming_probes, probes_for
from ecs_watchdog.models import Finding

logger = Logger(child=True)

Diagnose = Callable[[str, str, tuple[str, ...]], Diagnosis]  # cluster, service, probe names


@dataclass(frozen=True)
class ProbeVerdict:
    confirmed: bool
    results: tuple[dict[str, Any], ...] = ()  # each probe's name, status, summary, evidence, resource


@dataclass
class CauseProbe:
    """Runs the confirming probes for a finding, at most once per revision and category per container."""

    diagnose: Diagnose
    max_entries: int = 256
    _cache: OrderedDict[tuple[str, str], ProbeVerdict] = field(default_factory=OrderedDict)

    def __call__(self, finding: Finding) -> ProbeVerdict:
        category = finding.classification.category
        wanted = confirming_probes(category)
        stop = finding.stop
        if not wanted or not stop.service:
            return ProbeVerdict(False)
        key = (stop.task_definition_arn or "", category)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        try:
            diagnosis = self.diagnose(stop.cluster, stop.service, tuple(str(p) for p in probes_for(category)))
        except Exception as error:  # a probe must never block the event it was asked about
            logger.warning("probes failed; the loop rules decide alone", extra={"problem": f"{error}"[:300]})
            return ProbeVerdict(False)
        verdict = ProbeVerdict(
            confirmed=diagnosis.confirms(wanted),
            results=tuple(r.model_dump(mode="json") for r in diagnosis.results),
        )
        self._cache[key] = verdict
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return verdict
