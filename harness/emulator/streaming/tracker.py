"""Per-connection signal state: 10 ms hops (RMS + signature), kept incrementally.

The same hop statistics as the batch analysis (:mod:`..analysis`), so one clip gives the
same words, scores and verdicts whether uploaded or streamed. Speech segments are found
online: a segment is final once the pause after it is long enough that nothing later can
join it (or when it reaches the maximum utterance length), or at end of stream.
Hops are computed lazily, when read (see :class:`HopTracker`); their cost is numpy over
the new hops plus the still-open segment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from harness.contract import tables as T

from .. import analysis as A

hop_stats = A._hop_stats  # one formula for batch and streaming


def digest(sig: np.ndarray, salt: bytes = b"") -> bytes:
    return hashlib.blake2b(salt + sig.tobytes(), digest_size=32).digest()


def unit(sig: np.ndarray, salt: bytes) -> float:
    return int.from_bytes(digest(sig, salt)[:8], "big") / 2.0**64


class _Grow:
    """An append-only numpy array with amortised O(1) appends."""

    def __init__(self, dtype: type) -> None:
        self.buf = np.zeros(256, dtype)
        self.n = 0

    def extend(self, values: np.ndarray) -> None:
        need = self.n + values.size
        if need > self.buf.size:
            new = np.zeros(max(need, 2 * self.buf.size), self.buf.dtype)
            new[: self.n] = self.buf[: self.n]
            self.buf = new
        self.buf[self.n : need] = values
        self.n = need

    @property
    def view(self) -> np.ndarray:
        return self.buf[: self.n]


class SampleStore:
    """Decoded mono samples not yet handed out (PII clips), indexed from stream start."""

    def __init__(self) -> None:
        self.chunks: list[np.ndarray] = []
        self.offset = 0  # stream index of the first kept sample

    def append(self, x: np.ndarray) -> None:
        self.chunks.append(x)

    def _joined(self) -> np.ndarray:
        if len(self.chunks) != 1:
            self.chunks = [np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.float32)]
        return self.chunks[0]

    def take(self, a: int, b: int) -> np.ndarray:
        """Samples [a, b) (a copy), then forget everything before ``b``."""
        x = self._joined()
        lo, hi = max(0, a - self.offset), max(0, b - self.offset)
        out = x[lo:hi].copy()
        self.chunks = [x[hi:]]
        self.offset = max(self.offset, b)
        return out


PENDING_LIMIT_S = 1.0  # queued audio is turned into hops at least this often


class HopTracker:
    """Hop statistics of one stream, computed lazily: :meth:`push` only queues samples;
    reading :attr:`rms`, :attr:`sig` or :attr:`n_hops` (or :data:`PENDING_LIMIT_S` of
    queued audio) turns them into hops in one numpy pass. A surface that looks once a
    second (SVD) pays the numpy call overhead once a second, not once a message."""

    def __init__(self, sample_rate: int, store: SampleStore | None = None) -> None:
        self.store = store
        self.rate = sample_rate
        self.hop = max(1, int(round(sample_rate * A.HOP_S)))
        self.num_samples = 0
        self._carry = np.zeros(0, np.float32)
        self._pending: list[np.ndarray] = []
        self._pending_n = 0
        self._pending_limit = max(self.hop, int(sample_rate * PENDING_LIMIT_S))
        self._rms = _Grow(np.float32)
        self._sig = _Grow(np.uint64)
        self.closed = False

    # ------------------------------------------------------------------ input

    def push(self, mono: np.ndarray) -> None:
        if not mono.size:
            return
        if self.store is not None:
            self.store.append(mono)
        self.num_samples += mono.size
        self._pending.append(mono)
        self._pending_n += mono.size
        if self._pending_n >= self._pending_limit:
            self._update()

    def _update(self) -> None:
        """Queued samples -> hops (the partial last hop is carried)."""
        if not self._pending:
            return
        parts = [self._carry, *self._pending] if self._carry.size else self._pending
        buf = np.concatenate(parts) if len(parts) > 1 else parts[0]
        self._pending = []
        self._pending_n = 0
        n = buf.size // self.hop
        if n:
            rms, sig = hop_stats(buf[: n * self.hop].reshape(n, self.hop))
            self._rms.extend(rms)
            self._sig.extend(sig)
        self._carry = buf[n * self.hop :].copy() if buf.size > n * self.hop else buf[:0]

    def close(self) -> None:
        """End of stream: the partial last hop counts."""
        self._update()
        if self._carry.size:
            rms, sig = hop_stats(self._carry.reshape(1, -1))
            self._rms.extend(rms)
            self._sig.extend(sig)
            self._carry = self._carry[:0]
        self.closed = True

    # ------------------------------------------------------------------ views

    @property
    def hops_ready(self) -> int:
        """What :attr:`n_hops` will be, without computing queued hops."""
        return self._rms.n + (self._carry.size + self._pending_n) // self.hop

    @property
    def n_hops(self) -> int:
        self._update()
        return self._rms.n

    @property
    def rms(self) -> np.ndarray:
        self._update()
        return self._rms.view

    @property
    def sig(self) -> np.ndarray:
        self._update()
        return self._sig.view

    @property
    def duration_s(self) -> float:
        return self.num_samples / self.rate

    @property
    def duration_ms(self) -> int:
        return int(round(self.duration_s * 1000))

    def hop_ms(self, index: int) -> int:
        return min(int(round(index * self.hop * 1000 / self.rate)), self.duration_ms)

    def hop_at_ms(self, ms: int) -> int:
        return min(self.n_hops, int(round(ms * self.rate / (1000 * self.hop))))

    def hops_per_s(self) -> float:
        return self.rate / self.hop


ADVANCE_EVERY_S = 0.1  # results are at most this late; keeps per-frame cost low

_NONE: tuple[tuple[int, int], ...] = ()


class Segmenter:
    """Online version of :func:`analysis.speech_segments`, kept incrementally.

    Each look processes only the hops added since the last one; the state is the merged
    speech run still growing (``[run_a, run_b)``: start and end of its last speech hop).
    Looks happen at the same points as a full rescan from the last final segment would
    (once ``ADVANCE_EVERY_S`` of new audio is in), and give the same segments at the same
    points. Unless :attr:`eager` (a caller reads :attr:`open` after each call), a look that
    cannot finish a segment (the pause after the run is still too short and the run is
    shorter than the maximum length) is skipped, so hop statistics are read only when a
    decision is due.
    """

    def __init__(self, tracker: HopTracker) -> None:
        self.t = tracker
        hps = tracker.hops_per_s()
        self.min_gap = int(round(A.MIN_GAP_S * hps))
        self.min_seg = int(round(A.MIN_SEGMENT_S * hps))
        self.max_seg = max(1, int(round(A.MAX_SEGMENT_S * hps)))
        self.open: tuple[int, int] | None = None  # the segment still growing, if any
        self.seen = 0  # hops present at the last look (skipped or not)
        self.every = max(1, int(round(ADVANCE_EVERY_S * hps)))
        self.eager = False  # keep :attr:`open` current at every look
        self.done = 0  # hops processed
        self.run_a = -1  # the merged run still growing (run_a < 0: none)
        self.run_b = -1
        self.due = 0  # the first hop count at which a look can finish a segment

    def advance(self, final: bool = False) -> Sequence[tuple[int, int]]:
        """Segments ([start_hop, end_hop)) that became final since the last call.

        Looks again only once ``ADVANCE_EVERY_S`` of new audio is in (or when ``final``).
        """
        t = self.t
        if not final:
            n = t.hops_ready
            if n - self.seen < self.every:
                return _NONE
            self.seen = n
            if n < self.due and not self.eager:
                return _NONE
        rms = t.rms
        n = rms.size
        self.seen = n
        out: list[tuple[int, int]] = []
        min_gap, max_seg = self.min_gap, self.max_seg
        ra, rb = self.run_a, self.run_b
        p = self.done
        idx = np.flatnonzero(rms[p:n] > A.SPEECH_RMS)
        if idx.size:
            idx += p
            if idx.size <= 64:
                for i in idx.tolist():
                    if ra >= 0 and i - rb < min_gap:
                        rb = i + 1
                    else:
                        if ra >= 0:
                            self._close(ra, rb, out)
                        ra, rb = i, i + 1
            else:
                cuts = np.flatnonzero(np.diff(idx) > min_gap).tolist()
                first, last = int(idx[0]), int(idx[-1]) + 1
                if ra >= 0 and first - rb < min_gap:
                    first = ra
                elif ra >= 0:
                    self._close(ra, rb, out)
                starts = [first, *(int(idx[c + 1]) for c in cuts)]
                ends = [*(int(idx[c]) + 1 for c in cuts), last]
                for a, b in zip(starts[:-1], ends[:-1], strict=True):
                    self._close(a, b, out)
                ra, rb = starts[-1], ends[-1]
        self.done = n
        if ra < 0:
            self.open = None
        elif final or rb + min_gap <= n:
            self._close(ra, rb, out)
            ra = rb = -1
            self.open = None
        else:
            # open: full-length pieces are final already
            s = ra
            while s + max_seg <= rb:
                out.append((s, s + max_seg))
                s += max_seg
            self.open = (s, rb) if rb > s else None
            if s != ra:
                # a rescan from ``s`` would start the run at the first speech hop there
                if rb > s:
                    ra = s + int(np.flatnonzero(rms[s:rb] > A.SPEECH_RMS)[0])
                else:
                    ra = rb = -1
        self.run_a, self.run_b = ra, rb
        self.due = n + 1 + min_gap if ra < 0 else min(rb + min_gap, ra + max_seg)
        return out

    def _close(self, a: int, b: int, out: list[tuple[int, int]]) -> None:
        if b - a >= self.min_seg:
            max_seg = self.max_seg
            out.extend((s, min(b, s + max_seg)) for s in range(a, b, max_seg))

    def utterance(self, a: int, b: int) -> A.Utterance:
        """The utterance of hops [a, b), built as :func:`analysis.utterances` builds it."""
        t = self.t
        start, end = t.hop_ms(a), t.hop_ms(b)
        d = digest(t.sig[a:b])
        n = max(1, int(round((end - start) / 1000.0 * A.WORDS_PER_S)))
        rng = np.random.default_rng(int.from_bytes(d[:8], "big"))
        words = tuple(A.VOCAB[i] for i in rng.integers(0, len(A.VOCAB), n))
        return A.Utterance(start, end - start, words, d)


def svd_verdict(
    t: HopTracker, a_ms: int, b_ms: int, no_content_confidence: float = T.NO_CONTENT_CONFIDENCE
) -> A.Frame:
    """The frame over [a_ms, b_ms): no-content when (nearly) silent, else a hashed verdict."""
    a, b = t.hop_at_ms(a_ms), max(t.hop_at_ms(b_ms), t.hop_at_ms(a_ms) + 1)
    speech = t.rms[a:b] > A.SPEECH_RMS
    # count / size: what ``speech.mean()`` computes, without its Python-level overhead
    if not speech.size or np.count_nonzero(speech) / speech.size < A.SILENT_WINDOW_SPEECH_FRACTION:
        return A.Frame(a_ms, b_ms, "no-content", no_content_confidence)
    u = unit(speech.astype(np.uint8), b"svd")  # from the speech pattern: format-independent
    verdict = "synthetic" if u >= 0.5 else "non-synthetic"
    return A.Frame(a_ms, b_ms, verdict, min(0.9999, round(0.5 + abs(u - 0.5), 4)))
