"""Reproducers: the exchange a verdict judged, as a script that runs as printed.

For each failed or non-strict case the report directory gets ``reproduce/<case>.sh``
(curl, for HTTP) or ``reproduce/<case>.py`` (the ``websockets`` sync client, for a
WebSocket session), plus the exact bodies, file parts and binary frames under
``reproduce/files/<case>/``. Keys are never written: a script reads them from the
environment variables that ``reproduce/env.example`` lists, each beside the profile
field it stands for. Base URLs default to the ones the run used and can be pointed
elsewhere with the ``*_BASE_URL`` variables.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.client.evidence import Exchange, FileCopy, HttpExchange, WsExchange
from harness.redact import Redactor

FOLDER = "reproduce"
ENV_FILE = "env.example"
INLINE_BODY_LIMIT = 4000  # characters of a text body printed in the command itself
NAME_LIMIT = 100
# base_urls() key -> (variable, profile field)
BASE_VARIABLES: Mapping[str, tuple[str, str]] = {
    "velma_http": ("VELMA_BASE_URL", "velma.base_url"),
    "velma_ws": ("VELMA_WS_BASE_URL", "velma.ws_base_url"),
    "platform_http": ("PLATFORM_BASE_URL", "platform.base_url"),
    "kugel_http": ("KUGEL_BASE_URL", "kugel.base_url"),
    "kugel_ws": ("KUGEL_WS_BASE_URL", "kugel.ws_base_url"),
}
_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Variable:
    """An environment variable a reproducer reads instead of a key."""

    name: str
    fields: tuple[str, ...]  # the profile fields whose value it stands for
    value: str = field(repr=False, default="")  # the secret: matched, never written

    @property
    def reference(self) -> str:
        return f"${{{self.name}}}"


def profile_variables(profile: Any) -> list[Variable]:
    """One variable per credential of ``profile`` (``${NAME}`` from the profile, or a
    name made from the field), with the profile fields it stands for."""
    found: dict[str, tuple[list[str], str]] = {}

    def add(name: str, where: str, value: str) -> None:
        fields, _ = found.setdefault(name, ([], value))
        fields.append(where)

    for svc, prefix in (("velma", "VELMA"), ("platform", "PLATFORM"), ("kugel", "KUGEL")):
        for role, secret in getattr(profile, svc).keys.items():
            where = f"{svc}.{role}" if svc == "platform" else f"{svc}.keys.{role}"
            add(secret.env or f"{prefix}_{role.upper()}_KEY", where, secret.value)
    if profile.emulator is not None:
        token = profile.emulator.token
        add(token.env or "EMULATOR_TOKEN", "emulator.control_token", token.value)
    return [Variable(n, tuple(f), v) for n, (f, v) in found.items()]


def redactor_for(variables: Iterable[Variable]) -> Redactor:
    """A redactor that swaps every credential for its ``${NAME}``."""
    redactor = Redactor()
    for v in variables:
        redactor.add(v.value, v.reference)
    return redactor


def safe_name(case_id: str) -> str:
    """A file name for a case ID: letters, digits, ``.``, ``_`` and ``-`` only."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", case_id).strip("._") or "case"
    if len(name) > NAME_LIMIT:
        digest = hashlib.sha1(case_id.encode()).hexdigest()[:8]
        name = f"{name[: NAME_LIMIT - 9]}-{digest}"
    return name


@dataclass
class Rendered:
    kind: str  # "curl" | "python"
    text: str  # the whole script
    files: dict[str, bytes | Path] = field(default_factory=dict)  # path under reproduce/
    core: str = ""  # its gist (the curl command; the URL, headers and frames): for the report


class ReproduceWriter:
    """Renders reproducers and writes them under ``<report_dir>/reproduce/``."""

    def __init__(
        self,
        report_dir: str | Path | None,
        variables: Iterable[Variable],
        base_urls: Mapping[str, str],
        *,
        profile_source: str | None = None,
    ) -> None:
        self.folder = Path(report_dir) / FOLDER if report_dir is not None else None
        self.variables = list(variables)
        self.redactor = redactor_for(self.variables)
        self.base_urls = dict(base_urls)
        self.profile_source = profile_source
        self._names: dict[str, str] = {}  # case ID -> file stem
        self._with_files = False
        self._env_written = False

    # -- names -----------------------------------------------------------------------
    def stem(self, case_id: str) -> str:
        if case_id not in self._names:
            name = safe_name(case_id)
            if name in self._names.values():
                name = f"{name[: NAME_LIMIT - 9]}-{hashlib.sha1(case_id.encode()).hexdigest()[:8]}"
            self._names[case_id] = name
        return self._names[case_id]

    # -- rendering -------------------------------------------------------------------
    def render(
        self,
        case_id: str,
        exchange: Exchange,
        summary: Iterable[str] = (),
        *,
        with_files: bool = False,
    ) -> Rendered:
        """The script's text; ``with_files``: also the bytes to write beside it."""
        self._with_files = with_files
        stem = self.stem(case_id)
        comment = [f"Reproduces {case_id}", *summary]
        if isinstance(exchange, WsExchange):
            out = self._python(stem, exchange, comment)
        else:
            out = self._curl(stem, exchange, comment)
        out.text = self.redactor.text(out.text)  # every known key becomes its ${NAME}
        out.core = self.redactor.text(out.core)
        return out

    def write(
        self, case_id: str, exchange: Exchange, summary: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Render and write the reproducer; the report entry's ``reproducer`` object."""
        out = self.render(case_id, exchange, summary, with_files=self.folder is not None)
        entry: dict[str, Any] = {"kind": out.kind, "text": out.text}
        if self.folder is None:
            return entry
        suffix = ".py" if out.kind == "python" else ".sh"
        script = self.folder / f"{self.stem(case_id)}{suffix}"
        self.folder.mkdir(parents=True, exist_ok=True)
        for rel, content in out.files.items():
            target = self.folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                shutil.copyfile(content, target)
            else:
                target.write_bytes(content)
        script.write_text(out.text, encoding="utf-8")
        os.chmod(script, 0o755)
        self._write_env()
        entry["file"] = f"{FOLDER}/{script.name}"
        return entry

    def _write_env(self) -> None:
        if self._env_written or self.folder is None:
            return
        lines = [
            "# The variables the scripts in this folder read (written by `harness run`).",
            "# No key is stored here: fill in each one from the profile field named beside it,",
            "# then load them before running a script, e.g.  set -a; . ./env.example; set +a",
        ]
        if self.profile_source:
            lines.append(f"# Target profile of the run: {self.profile_source}")
        for v in self.variables:
            lines.append(f"{v.name}=  # profile {', '.join(v.fields)}")
        lines.append("# Optional: send the requests to another target (default: the run's URL).")
        for key, url in self.base_urls.items():
            if key in BASE_VARIABLES:
                name, where = BASE_VARIABLES[key]
                lines.append(f"# {name}={url}  # profile {where}")
        assert self.folder is not None
        (self.folder / ENV_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
        self._env_written = True

    # -- pieces shared by both kinds --------------------------------------------------
    def _base(self, service: str, kind: str, url: str) -> tuple[str | None, str, str]:
        """(variable, default base, rest of the URL) for a recorded absolute URL."""
        key = f"{service}_{kind}"
        candidates = [key] + [k for k in self.base_urls if k != key]
        for k in candidates:
            base = self.base_urls.get(k)
            if base and k in BASE_VARIABLES and url.startswith(base):
                return BASE_VARIABLES[k][0], base, url[len(base) :]
        return None, "", url

    def _used(self, text: str) -> list[str]:
        known = {v.name for v in self.variables}
        return sorted({m.group(1) for m in _REF.finditer(text) if m.group(1) in known})

    def _secret_free(self, data: bytes, *, keep_length: bool = False) -> tuple[bytes, bool]:
        """``data`` with every known key swapped for its ``${NAME}`` (or, ``keep_length``,
        for as many ``*``), and whether there was any."""
        changed = False
        for v in self.variables:
            raw = v.value.encode()
            if raw and raw in data:
                data = data.replace(raw, b"*" * len(raw) if keep_length else v.reference.encode())
                changed = True
        return data, changed

    # -- curl ------------------------------------------------------------------------
    def _curl(self, stem: str, ex: HttpExchange, comment: list[str]) -> Rendered:
        out = Rendered("curl", "")
        names = {v.name for v in self.variables}
        var, default, rest = self._base(ex.service, "http", ex.url)
        if var:
            url = f"${{{var}:-{default}}}" + _sh_escape(self.redactor.text(rest), names)
        else:
            url = _sh_escape(self.redactor.text(ex.url), names)
        args: list[str] = ["curl", "-sS", "-i"]
        args += ["--head"] if ex.method == "HEAD" else ["-X", shlex.quote(ex.method)]
        args.append(f'"{url}"')
        notes: list[str] = []
        given = set()
        for name, value in ex.headers:
            given.add(name.lower())
            value = self.redactor.text(str(value))
            args += ["-H", _dq(f"{name};" if value == "" else f"{name}: {value}", names)]
        for name, value in ex.form:
            args += ["--form-string", _dq(f"{name}={self.redactor.text(value)}", names)]
        for i, part in enumerate(ex.files, 1):
            rel = f"files/{stem}/{i}-{_safe_file(part.filename or part.field)}"
            out.files[rel] = self._part(part, notes)
            if part.filename is None:  # "<file": the file's content as a part without a name
                spec = f"{part.field}=<{rel};type={part.content_type}"
            else:
                name = _curl_param("filename", part.filename)
                spec = f"{part.field}=@{rel};{name};type={part.content_type}"
            args += ["-F", shlex.quote(spec)]
        if ex.files or ex.body:
            args += ["-H", "'Expect:'"]  # send the body at once, as the harness did
        if ex.body is not None:
            if "content-type" not in given:
                args += ["-H", "'Content-Type:'"]  # curl would add a form type otherwise
            args += self._body(stem, ex.body, out, notes)
        elif ex.body_note:
            notes.append(f"The case sent {ex.body_note}; this command sends no body.")
        used = self._used(" ".join(args))
        lines = ["#!/bin/sh", *(f"# {_one_line(c)}" for c in comment)]
        lines += [f"# {n}" for n in notes]
        lines += [
            "# Set the variables named in env.example (this folder) first, then: sh <this file>",
            "set -eu",
            'cd "$(dirname "$0")"',
        ]
        lines += [f': "${{{n}:?set {n} (see env.example)}}"' for n in used]
        out.core = " \\\n  ".join(_wrap(args))
        lines.append(out.core)
        out.text = "\n".join(lines) + "\n"
        return out

    def _part(self, part: FileCopy, notes: list[str]) -> bytes | Path:
        if not self._with_files:
            return part.path or b""  # text only: no need to read the file
        if part.path is not None:
            data = part.path.read_bytes()
            clean, changed = self._secret_free(data)
            if not changed:
                return part.path
            notes.append(f"A key inside {part.filename} was replaced by its ${{NAME}}.")
            return clean
        clean, changed = self._secret_free(part.data or b"")
        if changed:
            notes.append(f"A key inside {part.filename} was replaced by its ${{NAME}}.")
        return clean

    def _body(self, stem: str, body: bytes, out: Rendered, notes: list[str]) -> list[str]:
        names = {v.name for v in self.variables}
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            redacted = self.redactor.text(text)
            printable = all(c.isprintable() or c in "\n\t" for c in text)
            if redacted != text and printable:  # a key inside: let the shell fill it in
                return ["--data-binary", _dq(redacted, names)]
            if (
                printable
                and len(text) <= INLINE_BODY_LIMIT
                and not text.startswith("@")
                and redacted == text
            ):
                return ["--data-binary", shlex.quote(text) if text else "''"]
        rel = f"files/{stem}/body.bin"
        clean, changed = self._secret_free(body)
        if changed:
            notes.append("A key inside the body was replaced by its ${NAME} in " + rel + ".")
        out.files[rel] = clean
        return ["--data-binary", f"@{rel}"]

    # -- python (WebSocket) -----------------------------------------------------------
    def _python(self, stem: str, ex: WsExchange, comment: list[str]) -> Rendered:
        out = Rendered("python", "")
        var, default, rest = self._base(ex.service, "ws", ex.url)
        payload = any(isinstance(f.data, bytes) for f in ex.frames)
        rel = f"files/{stem}/frames.bin"
        if payload and self._with_files:
            frames = b"".join(f.data for f in ex.frames if isinstance(f.data, bytes))
            out.files[rel], _ = self._secret_free(frames, keep_length=True)
        schedule = [
            (*e[:2], self.redactor.text(e[2]), *e[3:]) if e[1] == "text" else e
            for e in _schedule(ex)
        ]
        rest_r = self.redactor.text(rest if var else ex.url)
        headers = {k: self.redactor.text(str(v)) for k, v in ex.headers}
        used = self._used(rest_r + " " + repr(headers) + " " + repr(schedule))
        client_close = (
            ex.client_closed_at_s if ex.closed_by == "client" or ex.close_code is None else None
        )
        doc = "\n".join(_one_line(c) for c in comment).replace("\\", "\\\\")
        lines = [
            "#!/usr/bin/env python3",
            '"""' + doc.replace('"""', "'''"),
            "",
            "Set the variables named in env.example (this folder) first, then: python3 <this file>",
            "Needs the `websockets` package. Prints every message received and the close code.",
            '"""',
            "",
            "import os",
            "import re",
            "import sys",
            "import threading",
            "import time",
            "from pathlib import Path",
            "from urllib.parse import quote",
            "",
            "from websockets.exceptions import ConnectionClosed, InvalidStatus",
            "from websockets.sync.client import connect",
            "",
            "HERE = Path(__file__).resolve().parent",
            f"BASE = os.environ.get({var!r}) or {default!r}" if var else 'BASE = ""',
            f"PATH = {rest_r!r}",
            f"HEADERS = {headers!r}",
            f"NAMES = {used!r}  # environment variables filled in below",
            f"PAYLOAD = {rel!r}  # the binary frames, back to back"
            if payload
            else "PAYLOAD = None",
            "# (seconds after the connection opened, kind, text or byte count[, count, last at])",
            "FRAMES = [",
            *(f"    {entry!r}," for entry in schedule),
            "]",
            f"CLIENT_CLOSES_AT = {client_close!r}  # the harness closed first (None: the server did)",
            f"WAIT_S = {ex.wait_s!r}",
            "",
            "",
            "def fill(text, encode=False):",
            "    def one(m):",
            "        if m.group(1) not in NAMES:",
            "            return m.group(0)",
            "        if m.group(1) not in os.environ:",
            '            sys.exit(f"set {m.group(1)} (see env.example)")',
            "        value = os.environ[m.group(1)]",
            '        return quote(value, safe="") if encode else value',
            "",
            '    return re.sub(r"\\$\\{([A-Za-z_][A-Za-z0-9_]*)\\}", one, text)',
            "",
            "",
            "def main():",
            "    url = BASE + fill(PATH, encode=True)",
            "    headers = {k: fill(v) for k, v in HEADERS.items()}",
            '    payload = (HERE / PAYLOAD).read_bytes() if PAYLOAD else b""',
            "    try:",
            "        ws = connect(url, additional_headers=headers, max_size=None,",
            "                     open_timeout=WAIT_S, compression=None)",
            "    except InvalidStatus as exc:",
            '        print(f"handshake refused: HTTP {exc.response.status_code}")',
            "        return",
            "",
            "    def receive():",
            "        try:",
            "            for message in ws:",
            "                if isinstance(message, bytes):",
            '                    print(f"< binary frame, {len(message)} bytes")',
            "                else:",
            '                    print("<", message)',
            "        except ConnectionClosed:",
            "            pass",
            "",
            "    reader = threading.Thread(target=receive, daemon=True)",
            "    reader.start()",
            "    t0 = time.monotonic()",
            "    offset = 0",
            "    try:",
            "        for at, kind, what, *run in FRAMES:",
            "            count, last = run if run else (1, at)",
            "            for i in range(count):",
            "                due = at + (last - at) * i / max(count - 1, 1)",
            "                time.sleep(max(0.0, t0 + due - time.monotonic()))",
            '                if kind == "binary":',
            "                    ws.send(payload[offset : offset + what])",
            "                    offset += what",
            "                else:",
            "                    ws.send(fill(what))",
            "    except ConnectionClosed:",
            '        print("(the server closed before every frame was sent)")',
            "    if CLIENT_CLOSES_AT is None:",
            "        reader.join(WAIT_S)",
            "    else:",
            "        reader.join(max(0.0, t0 + CLIENT_CLOSES_AT - time.monotonic()))",
            "    ws.close()",
            "    reader.join(5)",
            '    print(f"close {ws.close_code} {ws.close_reason!r}")',
            "",
            "",
            'if __name__ == "__main__":',
            "    main()",
        ]
        out.text = "\n".join(lines) + "\n"
        first = lines.index("HERE = Path(__file__).resolve().parent") + 1
        last = next(i for i, line in enumerate(lines) if line.startswith("WAIT_S = "))
        out.core = "\n".join(lines[first : last + 1])
        return out


# --------------------------------------------------------------------------- helpers


def _schedule(ex: WsExchange) -> list[tuple[Any, ...]]:
    """The frames in order; runs of equal-size binary frames folded into one entry."""
    out: list[list[Any]] = []
    for f in ex.frames:
        at = round(f.at_s, 4)
        if isinstance(f.data, bytes):
            size = len(f.data)
            last = out[-1] if out else None
            if last is not None and last[1] == "binary" and last[2] == size:
                if len(last) == 3:
                    last += [1, last[0]]
                last[3] += 1
                last[4] = at
                continue
            out.append([at, "binary", size])
        else:
            out.append([at, "text", f.data])
    return [tuple(e) for e in out]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _safe_file(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:60] or "file"


def _curl_param(name: str, value: str) -> str:
    """``name=value`` inside a curl ``-F`` argument, quoted when the value needs it."""
    if re.search(r'[;,"\\\s]', value):
        return f'{name}="' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name}={value}"


def _sh_escape(text: str, names: set[str]) -> str:
    """Escape for a double-quoted shell word, leaving ``${NAME}`` of ``names`` to expand."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    for n in names:
        out = out.replace(f"\\${{{n}}}", f"${{{n}}}")
    return out


def _dq(text: str, names: set[str]) -> str:
    return f'"{_sh_escape(text, names)}"'


def _wrap(args: list[str]) -> list[str]:
    """Group a command's words so each option and its value share a line."""
    lines: list[str] = []
    i = 0
    head = []
    while i < len(args) and not args[i].startswith(('"', "'")):
        head.append(args[i])
        i += 1
    if i < len(args):
        head.append(args[i])
        i += 1
    lines.append(" ".join(head))
    while i < len(args):
        if args[i].startswith("-") and i + 1 < len(args):
            lines.append(f"{args[i]} {args[i + 1]}")
            i += 2
        else:
            lines.append(args[i])
            i += 1
    return lines
