"""Which cases may run at the same time: what each case needs of the target, and the order
in which a run with ``--jobs N`` starts them.

A case needs concurrency slots on the surfaces it talks to (one each, unless it says more).
Some need more: admission cases fill the organisation's limit on their surfaces, so they are
marked ``@pytest.mark.own_surfaces(reason)`` and run with nothing else on those surfaces;
quota and fault-switch cases change what every request would see, so they are marked
``@pytest.mark.alone(reason)`` and run with nothing else in flight at all. The scheduler
keeps the slots in flight on each surface within that surface's cap (the organisation's
concurrency limit less one, so a slot the target frees a moment after its answer is never
needed twice), never runs more than ``jobs`` busy cases (a case that only waits on a stalled
stream does not count, up to ``jobs`` of them), and starts cases in collection order: a
case that does not fit yet is passed over for later ones. The cases that own their surfaces
come after all the shared ones, and the ``alone`` cases last, one at a time (by then a
surface that stalls has shown it, so they do not each wait out a timeout). Pure logic;
:mod:`.parallel` runs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.contract import UnknownClauseError, get
from harness.contract.model import Surface

#: Surfaces a group clause stands for (a ``velma`` case may use any model endpoint).
GROUPS: Mapping[str, tuple[str, ...]] = {
    Surface.VELMA.value: (
        Surface.STT_BATCH.value,
        Surface.VFAST_BATCH.value,
        Surface.SVD_BATCH.value,
        Surface.PII_BATCH.value,
        Surface.STT_STREAM.value,
        Surface.SVD_STREAM.value,
        Surface.PII_STREAM.value,
    ),
    Surface.KUGEL.value: (Surface.KUGEL_HTTP.value, Surface.KUGEL_WS.value),
}
ALONE_MARK = "alone"
OWNS_MARK = "own_surfaces"
SLOTS_MARK = "slots"
MARKERS = (
    f"{ALONE_MARK}(reason): the case needs the target to itself (it resets a shared quota or "
    "switches a fault for every request); a parallel run starts it with nothing else in flight",
    f"{OWNS_MARK}(reason): the case needs its surfaces to itself (it fills the organisation's "
    "limit there); a parallel run starts it with nothing else on those surfaces",
    f"{SLOTS_MARK}(n): the case holds n concurrency slots on its surface at once (default 1)",
)


@dataclass(frozen=True)
class Needs:
    """What one case needs of the target while it runs."""

    slots: Mapping[str, int] = field(default_factory=dict)  # surface -> slots held at once
    alone: str | None = None  # why the case needs the target to itself (None: it does not)
    owns: str | None = None  # why it needs its surfaces to itself (None: it does not)


def surfaces_of(item: Any) -> tuple[str, ...]:
    """The surfaces a case talks to: its ``surface`` parameter, else its clause's surface
    (a group clause stands for every surface of the group); () when neither says."""
    callspec = getattr(item, "callspec", None)
    params = getattr(callspec, "params", {}) if callspec is not None else {}
    surface = params.get("surface")
    if isinstance(surface, str) and surface in {s.value for s in Surface}:
        return GROUPS.get(surface, (surface,))
    marker = item.get_closest_marker("clause")
    if marker is None or not marker.args:
        return ()
    try:
        clause_surface = get(str(marker.args[0])).surface.value
    except UnknownClauseError:
        return ()
    return GROUPS.get(clause_surface, (clause_surface,))


def needs_of(item: Any) -> Needs:
    """Read a case's needs from its markers and parameters."""
    alone = item.get_closest_marker(ALONE_MARK)
    if alone is not None:
        reason = str(alone.args[0]) if alone.args else "needs the target to itself"
        return Needs(alone=reason)
    marker = item.get_closest_marker(SLOTS_MARK)
    n = int(marker.args[0]) if marker is not None and marker.args else 1
    surfaces = surfaces_of(item)
    owns = item.get_closest_marker(OWNS_MARK)
    if owns is not None:
        reason = str(owns.args[0]) if owns.args else "needs its surfaces to itself"
        if not surfaces:  # surfaces unknown: the whole target, to be safe
            return Needs(alone=reason)
        return Needs(slots={s: n for s in surfaces}, owns=reason)
    return Needs(slots={s: n for s in surfaces})


def caps_from_limits(concurrency: Any, default: int) -> dict[str, int]:
    """Per-surface caps from the profile's ``[velma.limits.concurrency]`` (limit less one,
    at least 1). Surfaces with no stated limit get ``default``."""
    caps: dict[str, int] = {}
    if isinstance(concurrency, Mapping):
        for surface, limit in concurrency.items():
            try:
                caps[str(surface)] = max(1, int(limit) - 1)
            except (TypeError, ValueError):
                continue
    for surface in GROUPS[Surface.VELMA.value]:
        caps.setdefault(surface, default)
    return caps


class Scheduler:
    """Decides which cases start next; the caller reports starts and finishes.

    ``needs[i]`` belongs to the i-th case in collection order. ``caps`` bounds the slots in
    flight per surface (a surface missing from it is bounded by ``jobs`` only)."""

    def __init__(self, needs: Sequence[Needs], caps: Mapping[str, int], jobs: int) -> None:
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        self.needs = list(needs)
        self.caps = dict(caps)
        self.jobs = jobs
        shared = [i for i, n in enumerate(self.needs) if n.alone is None and n.owns is None]
        owning = [i for i, n in enumerate(self.needs) if n.alone is None and n.owns is not None]
        alone = [i for i, n in enumerate(self.needs) if n.alone is not None]
        self.order: list[int] = shared + owning + alone  # the order cases start (and log) in
        self.pending: list[int] = list(self.order)
        self.running: set[int] = set()
        self.in_use: dict[str, int] = {}
        self.owned: set[str] = set()  # surfaces a running case has to itself
        self.alone_running = False

    @property
    def done(self) -> bool:
        return not self.pending and not self.running

    def _fits(self, need: Needs) -> bool:
        if self.owned.intersection(need.slots):
            return False
        if need.owns is not None:
            return not any(self.in_use.get(s, 0) for s in need.slots)
        for surface, n in need.slots.items():
            cap = self.caps.get(surface, self.jobs)
            # A case asking for more than the cap runs when its surface is otherwise idle.
            if self.in_use.get(surface, 0) and self.in_use.get(surface, 0) + n > cap:
                return False
        return True

    def next_batch(self, idle: int = 0) -> list[int]:
        """The cases to start now (possibly none), in collection order; marks them running.

        ``idle``: how many running cases only wait on the network (a stalled stream's
        end); up to ``jobs`` of them do not count against ``jobs``, so a stalling target
        does not keep the run's other cases from starting. The caps still count them: a
        stalled stream still holds its slot on the target."""
        started: list[int] = []
        if self.alone_running:
            return started
        busy_limit = self.jobs + min(max(idle, 0), self.jobs)
        for i in list(self.pending):
            if len(self.running) >= busy_limit:
                break
            need = self.needs[i]
            if need.alone is not None:
                if not self.running:  # everything else has finished: run it by itself
                    self._start(i)
                    started.append(i)
                break  # nothing starts beside an alone case
            if self._fits(need):
                self._start(i)
                started.append(i)
        return started

    def _start(self, i: int) -> None:
        self.pending.remove(i)
        self.running.add(i)
        self._hold(self.needs[i], True)

    def finish(self, i: int) -> None:
        self.running.discard(i)
        self._hold(self.needs[i], False)

    def _hold(self, need: Needs, taken: bool) -> None:
        """Take (``taken``) or give back what ``need`` holds: aloneness, owned surfaces, slots."""
        if need.alone is not None:
            self.alone_running = taken
        if need.owns is not None:
            if taken:
                self.owned.update(need.slots)
            else:
                self.owned.difference_update(need.slots)
        sign = 1 if taken else -1
        for surface, n in need.slots.items():
            self.in_use[surface] = self.in_use.get(surface, 0) + sign * n

    def cancel_pending(self) -> list[int]:
        """Stop starting cases (the run was interrupted); the ones never started."""
        left, self.pending = self.pending, []
        return left


def current_caps(profile: Any, limits_found: Mapping[str, Any]) -> dict[str, int]:
    """The per-surface caps for a target: the profile's stated limits, and the limits
    discovered so far in the run (a Velma-2 surface with neither: one case at a time).
    KugelAudio and the Platform API state no concurrency limit: 4 at once on an emulator,
    2 on a live target."""
    stated = profile.velma.limits.get("concurrency") if profile.velma else None
    known = dict(stated) if isinstance(stated, Mapping) else {}
    for surface, found in list(limits_found.items()):
        if surface not in known and getattr(found, "value", None):
            known[surface] = found.value
    caps = caps_from_limits(known, default=1)
    other = 4 if profile.emulator is not None else 2
    for surface in ("kugel-http", "kugel-ws", "platform"):
        caps.setdefault(surface, other)
    return caps


def parse_jobs(value: object) -> int | None:
    """``--jobs``: a whole number of at least 1, or ``auto`` (None: decided from the limits).
    Raises ``ValueError`` naming the option and what it expects."""
    text = str(value).strip().lower()
    if text == "auto":
        return None
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise ValueError(f"--jobs: expected a whole number of at least 1, or 'auto'; got {value!r}")
    return jobs


def resolve_jobs(
    jobs: int | None, profile: Any, limits_found: Mapping[str, Any]
) -> tuple[int, dict[str, int]]:
    """The jobs of a run (``--jobs``, or what the limits allow) and the caps now."""
    caps = current_caps(profile, limits_found)
    return (jobs if jobs is not None else default_jobs(caps)), caps


def default_jobs(caps: Mapping[str, int], ceiling: int = 8) -> int:
    """What the limits allow: enough jobs to fill the two widest surfaces, at most ``ceiling``."""
    widest = sorted(caps.values(), reverse=True)[:2] or [1]
    return max(1, min(ceiling, sum(widest)))


def describe(needs: Iterable[Needs]) -> str:
    """One line for the run's header: how many cases share, own their surfaces, run alone."""
    needs = list(needs)
    alone = sum(1 for n in needs if n.alone is not None)
    owning = sum(1 for n in needs if n.alone is None and n.owns is not None)
    shared = len(needs) - alone - owning
    return f"{shared} cases share the target, {owning} own their surfaces, {alone} run alone"
