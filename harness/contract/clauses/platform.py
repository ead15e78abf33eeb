"""Clauses for the Modulate Platform API (surface ``platform``).

Source: the "Modulate Platform API" part of
seeds/modulate-authentication-and-rate-limits.txt. That page names the two
auth headers, the three submission patterns of ``POST /api_service`` and the
``job_status`` poll, but no status codes and no schemas. Where a clause needs a
status the page does not give, it is tier INFO and the status is our
convention, said so in the requirement.
"""

from __future__ import annotations

from ..build import clause
from ..model import Acceptable, Clause, Surface, Tier
from ..sources import AUTH_PAGE, src
from ..tables import PLATFORM_AUTH_HEADERS, PLATFORM_MAX_SINGLE_FILE_BYTES, PLATFORM_PATHS

_P = Surface.PLATFORM
_SUBMIT = PLATFORM_PATHS["submit"]
_STATUS = PLATFORM_PATHS["job_status"]
_ACCOUNT, _APIKEY = PLATFORM_AUTH_HEADERS
_MB = PLATFORM_MAX_SINGLE_FILE_BYTES // 1_000_000

_S_HOSTS = src(AUTH_PAGE, "surfaces table (Modulate Platform API row)")
_S_AUTH = src(AUTH_PAGE, "Modulate Platform API > Authentication headers")
_S_TYPES = src(AUTH_PAGE, "Modulate Platform API > Submission types")
_S_POLL = src(AUTH_PAGE, "Modulate Platform API > Submission types (job_status polling)")

CLAUSES: tuple[Clause, ...] = (
    # --- authentication ---
    clause(
        id="platform/auth-headers",
        surface=_P,
        requirement=(
            f"Every Platform request carries both the `{_ACCOUNT}` header (account UUID) and "
            f"the `{_APIKEY}` header (Platform key); with valid values the request is served."
        ),
        sources=(_S_HOSTS, _S_AUTH),
        tier=Tier.MUST,
        outcomes=(Acceptable(behaviour="request with valid accountuuid + apikey is not refused"),),
        tags=("auth",),
    ),
    clause(
        id="platform/auth-missing-header",
        surface=_P,
        requirement=(
            f"A request without `{_ACCOUNT}` or without `{_APIKEY}` is refused. The page gives "
            "no status: 401 is our convention, not documented."
        ),
        sources=(_S_AUTH,),
        tier=Tier.INFO,
        outcomes=(Acceptable(status=401, behaviour="request refused, no job created"),),
        tags=("auth",),
    ),
    clause(
        id="platform/auth-invalid-key",
        surface=_P,
        requirement=(
            f"A request whose `{_APIKEY}` is unknown, or does not belong to the `{_ACCOUNT}` "
            "sent, is refused. 401 is our convention, not documented."
        ),
        sources=(_S_AUTH,),
        tier=Tier.INFO,
        outcomes=(Acceptable(status=401, behaviour="request refused, no job created"),),
        tags=("auth",),
    ),
    clause(
        id="platform/auth-velma-key-not-accepted",
        surface=_P,
        requirement=(
            "Platform keys are issued separately from Velma-2 model keys, so a Velma-2 key "
            "(sent as `X-API-Key` or as `apikey`) does not authenticate. 401 is our "
            "convention, not documented."
        ),
        sources=(_S_HOSTS, _S_AUTH),
        tier=Tier.INFO,
        outcomes=(Acceptable(status=401, behaviour="request refused, no job created"),),
        tags=("auth",),
    ),
    # --- submission types ---
    clause(
        id="platform/submit-realtime-websocket",
        surface=_P,
        requirement=(
            f'`POST {_SUBMIT}` whose `submission_type` is `"realtime_websocket"`, with no file attached, '
            "answers with a `realtime_url` that a Pipecat client can stream to."
        ),
        sources=(_S_TYPES,),
        tier=Tier.MUST,
        outcomes=(Acceptable(behaviour="2xx JSON body with a non-empty string `realtime_url`"),),
        tags=("platform-jobs", "websocket"),
    ),
    clause(
        id="platform/submit-realtime-with-files",
        surface=_P,
        requirement=(
            'The real-time submission is documented without files; a "realtime_websocket" '
            "submission that attaches audio is refused or has the files ignored. 400 for the "
            "refusal is our convention, not documented."
        ),
        sources=(_S_TYPES,),
        tier=Tier.INFO,
        outcomes=(
            Acceptable(status=400, behaviour="no realtime_url issued"),
            Acceptable(behaviour="files ignored and a realtime_url issued"),
        ),
        tags=("platform-jobs", "validation"),
    ),
    clause(
        id="platform/submit-single-file",
        surface=_P,
        requirement=(
            f"`POST {_SUBMIT}` with one audio file of at most {_MB} MB is a complete batch "
            "job on its own: it is accepted and can be polled through job_status."
        ),
        sources=(_S_TYPES, _S_POLL),
        tier=Tier.MUST,
        outcomes=(Acceptable(behaviour="2xx; the job's job_id is known and job_status finds it"),),
        tags=("platform-jobs",),
    ),
    clause(
        id="platform/submit-single-file-too-large",
        surface=_P,
        requirement=(
            f"A single-file upload over {_MB} MB is refused (tested above 5 MiB so that the "
            "decimal and binary readings agree). 413 is our convention, not documented."
        ),
        sources=(_S_TYPES,),
        tier=Tier.INFO,
        outcomes=(Acceptable(status=413, behaviour="no job created for the oversized file"),),
        tags=("platform-jobs", "validation"),
    ),
    clause(
        id="platform/submit-multi-file",
        surface=_P,
        requirement=(
            f"A multi-file batch is built by one `POST {_SUBMIT}` per file, all with the "
            "same `job_id`, the last one with `finalize_job: true`; the job then covers "
            "every file uploaded under that job_id."
        ),
        sources=(_S_TYPES,),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                behaviour="each upload 2xx; after finalize the job completes with all files"
            ),
        ),
        tags=("platform-jobs",),
    ),
    clause(
        id="platform/multi-file-unfinalized",
        surface=_P,
        requirement=(
            "Until an upload with `finalize_job: true` arrives, a multi-file job keeps "
            'accepting files and does not report `status` "completed". The page implies '
            "this; it does not state it."
        ),
        sources=(_S_TYPES, _S_POLL),
        tier=Tier.INFO,
        outcomes=(Acceptable(behaviour='job_status.status != "completed" before finalize_job'),),
        tags=("platform-jobs",),
    ),
    clause(
        id="platform/multi-file-after-finalize",
        surface=_P,
        requirement=(
            "An upload naming a job_id that was already finalized is refused. Neither the "
            "behaviour nor a status is documented: 409 is our convention."
        ),
        sources=(_S_TYPES,),
        tier=Tier.INFO,
        outcomes=(Acceptable(status=409, behaviour="the finished job is left unchanged"),),
        tags=("platform-jobs",),
    ),
    # --- job status ---
    clause(
        id="platform/job-status-completes",
        surface=_P,
        requirement=(
            f"`GET {_STATUS}` for a submitted batch job reports a `status`, which "
            'reaches "completed" once processing ends.'
        ),
        sources=(_S_POLL,),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(behaviour='JSON body with `status`; eventually status == "completed"'),
        ),
        tags=("platform-jobs",),
    ),
    clause(
        id="platform/job-status-results",
        surface=_P,
        requirement=(
            'Once `status` is "completed", the same job_status response carries the '
            "job's results, so no further call is needed to fetch them."
        ),
        sources=(_S_POLL,),
        tier=Tier.MUST,
        outcomes=(Acceptable(behaviour="completed job_status body contains non-empty results"),),
        tags=("platform-jobs",),
    ),
    clause(
        id="platform/job-status-unknown-job",
        surface=_P,
        requirement=(
            "job_status for a job_id that was never submitted (or belongs to another "
            "account) does not report a status. 404 is our convention, not documented."
        ),
        sources=(_S_POLL,),
        tier=Tier.INFO,
        outcomes=(Acceptable(status=404, behaviour="no job data disclosed"),),
        tags=("platform-jobs", "not-found"),
    ),
)
