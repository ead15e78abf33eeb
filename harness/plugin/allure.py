"""A case record's labels, description and attachments in Allure (when it is active)."""

from __future__ import annotations

import json

from harness.report.model import Case


def label(record: Case) -> None:
    try:
        import allure
    except ImportError:  # pragma: no cover - allure-pytest is a dependency
        return
    try:
        allure.dynamic.label("clause", record.clause)
        allure.dynamic.label("surface", record.surface)
        allure.dynamic.label("tier", str(record.tier))
        for s in record.source:
            allure.dynamic.label("source", s)
        if record.requirement:
            allure.dynamic.description(record.requirement)
        allure.attach(
            json.dumps(record.evidence, indent=2),
            name="evidence (redacted)",
            attachment_type=allure.attachment_type.JSON,
        )
        repro = record.reproducer
        if repro:
            allure.attach(
                repro.text,
                name=f"reproducer ({repro.file})" if repro.file else "reproducer",
                attachment_type=allure.attachment_type.TEXT,
            )
    except Exception:  # noqa: BLE001 - allure not active for this run
        return
