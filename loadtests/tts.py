"""tts scenario (see harness/load/tts.py).

locust -f loadtests/tts.py --headless -u 1 -r 1 --run-time 60s
harness load tts [--target FILE]
"""

from harness.load.tts import TtsUser

__all__ = ["TtsUser"]
