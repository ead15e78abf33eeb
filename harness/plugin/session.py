"""The run's state (:class:`HarnessSession`) and how a run opens it: the target (a profile
or the embedded emulator), the redactor, the audio fixtures, the budget, the report writer."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.client import AudioBudget
from harness.client.control import EmulatorControl
from harness.cost_estimate import Estimate
from harness.outcomes import ExitCode, Outcome
from harness.redact import Redactor
from harness.target import Profile, load_profile

WRITE_INTERVAL_S = 1.0  # conformance.json is rewritten at most this often mid-run


@dataclass
class HarnessSession:
    profile: Profile
    redactor: Redactor
    strict: bool
    writer: Any  # harness.report.writer.ReportWriter | None
    report_dir: Path | None
    manifest: Any  # harness.audio.Manifest
    budget: AudioBudget
    stop_embedded: Any = None
    restore_speed: Any = None  # a `harness emulate` target: puts its own time scale back
    aborted: str | None = None
    abort_code: ExitCode = ExitCode.COULD_NOT_TEST  # the exit code of an aborted run
    results: dict[str, Outcome] = field(default_factory=dict)  # case id -> outcome
    reproduce: Any = None  # harness.report.reproduce.ReproduceWriter
    require_complete: bool = False
    unreachable: dict[str, str] = field(default_factory=dict)  # service -> why (at start)
    not_served: dict[str, str | None] = field(default_factory=dict)  # probe name -> cause
    planned: Estimate | None = None  # live targets: the cost estimate of the selection
    limits_found: dict[str, Any] = field(default_factory=dict)  # surface -> discover.Limit
    jobs: int | None = 1  # --jobs (None: auto, decided from the target's limits)
    lock: threading.RLock = field(
        default_factory=threading.RLock
    )  # shared writers, cases on threads

    def control(self) -> EmulatorControl | None:
        c = self.profile.emulator
        return EmulatorControl(c.url, c.token.value) if c else None


#: Where the session lives: ``config.stash[SESSION]`` (absent when it did not start).
SESSION: pytest.StashKey[HarnessSession] = pytest.StashKey()


def current(config: pytest.Config) -> HarnessSession | None:
    return config.stash.get(SESSION, None)


def start_session(config: pytest.Config) -> HarnessSession:
    """Read the profile (or start the embedded emulator) and open the report."""
    from harness.audio import build
    from harness.embedded import set_run_speed, start_embedded

    target_path = config.getoption("--target")
    real_time = bool(config.getoption("--real-time"))
    stop = restore_speed = None
    if target_path:
        profile = load_profile(target_path)
        restore_speed = set_run_speed(profile, real_time=real_time)  # kind = "emulator" only
    else:
        embedded = start_embedded(config.getoption("--emulator-config"), real_time=real_time)
        profile, stop = embedded.profile, embedded.stop
    from harness.report.reproduce import ReproduceWriter, profile_variables, redactor_for

    variables = profile_variables(profile)  # each key -> its ${NAME} in everything written
    redactor = redactor_for(variables)
    emulator_config = config.getoption("--emulator-config")
    profile_file = str(Path(target_path).resolve()) if target_path else None
    max_cost = config.getoption("--max-cost")
    if max_cost is None:
        max_cost = profile.max_cost_usd
    fixture_dir = config.getoption("--fixture-dir")
    manifest = build(Path(fixture_dir) if fixture_dir else None)
    report_dir = config.getoption("--report-dir")
    writer = None
    if report_dir:
        from harness.report.writer import ReportWriter

        writer = ReportWriter(report_dir, flush_interval_s=WRITE_INTERVAL_S)
        writer.start(
            {
                "name": profile.name,
                "kind": profile.kind,
                "base_urls": profile.base_urls(),
                "versions": _versions(),
                "profile": profile_file or profile.source,
                "emulator_config": (
                    str(Path(emulator_config).resolve())
                    if emulator_config and not target_path
                    else None
                ),
            },
            strict=bool(config.getoption("--strict-contract")),
        )
    return HarnessSession(
        profile=profile,
        redactor=redactor,
        strict=bool(config.getoption("--strict-contract")),
        require_complete=bool(config.getoption("--require-complete")),
        writer=writer,
        report_dir=Path(report_dir) if report_dir else None,
        manifest=manifest,
        budget=AudioBudget(max_cost if profile.is_live else None),
        stop_embedded=stop,
        restore_speed=restore_speed,
        reproduce=ReproduceWriter(
            report_dir,
            variables,
            profile.base_urls(),
            profile_source=profile_file or profile.source,
        ),
    )


def _versions() -> dict[str, str]:
    from harness import __version__

    return {"harness": __version__}
