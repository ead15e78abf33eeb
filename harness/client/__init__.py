"""REST and streaming clients shared by the conformance suites and the load scenarios.

Every exchange is recorded as redacted evidence (for reports) and exactly (headers,
body bytes, frames and their timing), so that ``harness.report.reproduce`` can turn
the one a verdict judged into a curl command or a short Python script that names
the environment variable holding the key instead of the key.
"""

from .budget import AudioBudget, BudgetExceeded
from .evidence import Recorder
from .http import FilePart, HttpClient
from .ws import WsResult, WsSession, open_session

__all__ = [
    "AudioBudget",
    "BudgetExceeded",
    "FilePart",
    "HttpClient",
    "Recorder",
    "WsResult",
    "WsSession",
    "open_session",
]
