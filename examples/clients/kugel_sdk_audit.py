"""Drive KugelAudio's official Python SDK against a target, so ``harness audit-client`` can judge it.

The SDK (``kugelaudio`` on PyPI, the project's optional ``sdk`` extra: ``pip install
'voice-contract-harness[sdk]'`` or ``pip install kugelaudio``) is pointed at ``$KUGEL_API_BASE``
through its ``api_url`` option and synthesises one short text once with ``client.tts.generate``
(the SDK sends it over its ``/ws/tts`` WebSocket) with voice ``$KUGEL_VOICE_ID`` (default 1). Whatever retries, waits or give-ups happen are
the SDK's own: this script adds none, so the audit reports on the SDK.

Prints one ``ok``/``failed`` line; exit 0 when audio came back, 1 when the SDK raised, 2 when the
environment is incomplete or the SDK is not installed. Reads the environment with
``_common.py`` beside it.
"""

from __future__ import annotations

import os
import sys

from _common import environment

TEXT = "Hello from the client audit."


def main() -> int:
    try:
        from kugelaudio import KugelAudio
    except ImportError:
        print(
            "kugel_sdk_audit: the KugelAudio SDK is not installed; "
            "install it with `pip install kugelaudio` (or the project's `sdk` extra)",
            file=sys.stderr,
        )
        return 2
    env = environment("KUGEL_API_BASE", "KUGEL_API_KEY")
    if env is None:
        return 2
    base, key = env["KUGEL_API_BASE"].rstrip("/"), env["KUGEL_API_KEY"]
    timeout = float(os.environ.get("KUGEL_SDK_TIMEOUT", "30"))
    voice_id = int(os.environ.get("KUGEL_VOICE_ID", "1"))  # 1: the emulator's first voice
    # telemetry=False: the SDK would otherwise report client errors to <api_url>/v1/sdk-diagnostics.
    client = KugelAudio(api_key=key, api_url=base, timeout=timeout, telemetry=False)
    try:
        audio = client.tts.generate(TEXT, voice_id=voice_id, language="en")
    except Exception as exc:  # the SDK's own errors (KugelAudioError and subclasses) and others
        code = getattr(exc, "status_code", None) or getattr(exc, "code", None)
        print(f"failed {type(exc).__name__} code={code} {exc}")
        return 1
    finally:
        client.close()
    size = len(getattr(audio, "audio", b"") or b"")
    print(f"ok synthesised {size} bytes of audio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
