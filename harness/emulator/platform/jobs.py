"""Platform jobs held in memory, per account: files, finalisation, modelled completion."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PENDING = "pending"  # open: more files may come (no finalize_job yet)
PROCESSING = "processing"  # finalised, modelled processing not over
COMPLETED = "completed"


@dataclass
class FileResult:
    filename: str
    audio_s: float
    result: dict[str, Any]  # the per-file transcript, JSON-ready


@dataclass
class PlatformJob:
    job_id: str
    files: list[FileResult] = field(default_factory=list)
    finalized_at: float | None = None  # monotonic
    ready_at: float | None = None  # monotonic: completed from then on

    def status(self, now: float) -> str:
        if self.ready_at is None:
            return PENDING
        return COMPLETED if now >= self.ready_at else PROCESSING

    def snapshot(self, now: float) -> dict[str, Any]:
        status = self.status(now)
        body: dict[str, Any] = {
            "job_id": self.job_id,
            "status": status,
            "file_count": len(self.files),
            "finalized": self.finalized_at is not None,
        }
        if status == COMPLETED:
            body["results"] = {"files": [f.result for f in self.files]}
        return body


class Finalized(Exception):
    """The job was already finalised; nothing was changed."""


class JobStore:
    """Jobs by (account, job_id); the oldest are forgotten past ``max_jobs`` per account."""

    def __init__(
        self, delay_for: Callable[[float], float], max_jobs: int, clock=time.monotonic
    ) -> None:
        self._delay_for = delay_for  # total audio seconds -> processing seconds (wall)
        self._max = max_jobs
        self._clock = clock
        self._lock = threading.Lock()
        self._jobs: dict[str, OrderedDict[str, PlatformJob]] = {}

    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())

    def get(self, account: str, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            job = self._jobs.get(account, {}).get(job_id)
            return None if job is None else job.snapshot(self._clock())

    def is_finalized(self, account: str, job_id: str) -> bool:
        with self._lock:
            job = self._jobs.get(account, {}).get(job_id)
            return job is not None and job.finalized_at is not None

    def add(self, account: str, job_id: str, file: FileResult, finalize: bool) -> dict[str, Any]:
        """Add one file (creating the job); raises :class:`Finalized`."""
        with self._lock:
            jobs = self._jobs.setdefault(account, OrderedDict())
            job = jobs.get(job_id)
            if job is not None and job.finalized_at is not None:
                raise Finalized(job_id)
            if job is None:
                job = jobs[job_id] = PlatformJob(job_id)
                while len(jobs) > self._max:
                    jobs.popitem(last=False)
            job.files.append(file)
            now = self._clock()
            if finalize:
                job.finalized_at = now
                job.ready_at = now + self._delay_for(sum(f.audio_s for f in job.files))
            return job.snapshot(now)
