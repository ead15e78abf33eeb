"""The emulator as a benchmark target: one uvicorn worker in its own process, pinned to a core.

Run by ``bench_emulator.py`` (not a benchmark itself):

    python benchmarks/emu_server.py --port P [--cpu 0] [--ws websockets] [--profile out.prof]

Builds the app with ``create_app(config)`` from :data:`BENCH_CONFIG` (limits raised so that
concurrency and quota never interfere), adds a trivial ``GET /trivial`` route for the
REST baseline, and serves with the emulator's uvicorn options (uvloop, httptools). Stops on
SIGINT/SIGTERM; with ``--profile`` a cProfile of the whole run is written then.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import resource
import signal
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BIG = 1_000_000
# Limits out of the way: every surface allowed, effectively unlimited concurrency and quota,
# no modelled processing sleep. ``velma/batch-max-size`` is pinned to its preferred
# alternative ("accepted"), so a >100 MB upload is read to the end and processed.
BENCH_CONFIG: dict[str, Any] = {
    "processing": {"time_scale": 0.0},
    "alternatives": {"velma/batch-max-size": "accepted"},
    "orgs": {
        "bench": {
            "concurrency": BIG,
            "quota_audio_hours": float(BIG),
            "keys": [{"key": "bench-valid-key", "role": "valid"}],
        }
    },
}
VALID_KEY = "bench-valid-key"
INVALID_KEY = "bench-not-a-key"


def build_app() -> Any:
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from harness.emulator.app import create_app
    from harness.emulator.config import load_config_dict

    async def trivial(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    app = create_app(load_config_dict(BENCH_CONFIG))
    app.router.routes.append(Route("/trivial", trivial, methods=["GET"]))
    return app


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cpu", type=int, default=0)
    ap.add_argument(
        "--ws", default=None, help="uvicorn ws implementation (default: the emulator's)"
    )
    ap.add_argument(
        "--http", default=None, help="uvicorn http implementation (default: the emulator's)"
    )
    ap.add_argument("--profile", default=None, help="write a cProfile of the run here")
    args = ap.parse_args()

    if args.cpu >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    import uvicorn

    from harness.emulator import server as emulator_server

    app = build_app()
    # the emulator's own uvicorn options (whatever harness.emulator.server chooses today)
    if hasattr(emulator_server, "uvicorn_options"):
        options = dict(emulator_server.uvicorn_options(app.state.emulator.config.server))
    else:
        options = dict(emulator_server.UVICORN_OPTIONS)
    if args.ws:
        options["ws"] = args.ws
    if args.http:
        options["http"] = args.http
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        backlog=4096,
        **options,
    )
    server = uvicorn.Server(config)

    def stop(signum: int, frame: object) -> None:
        server.should_exit = True

    # uvicorn re-raises a captured signal after its graceful shutdown: make that harmless
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    prof = cProfile.Profile() if args.profile else None
    if prof is not None:
        prof.enable()
    server.run()
    if prof is not None:
        prof.disable()
        prof.dump_stats(args.profile)


if __name__ == "__main__":
    main()
