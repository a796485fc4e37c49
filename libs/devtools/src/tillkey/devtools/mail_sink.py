"""A local SMTP server for `make run`: keeps every email as an .eml file and prints a line."""
from __future__ import annotations

import argparse
import re
import time
from email.header import decode_header, make_header
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

# The header block ends at the first empty line; a header continues on lines that start with white space.
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")
_SUBJECT = re.compile(rb"^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
_FOLD = re.compile(rb"\r?\n(?=[ \t])")


def subject_of(content: bytes) -> str | None:
    """The Subject as a mail client shows it (unfolded, encoded words decoded), read straight from
    the header block. Parsing the message with the email package, even its headers only through
    the header registry, was most of this process's CPU per email, for one line of output."""
    end = _END_OF_HEADERS.search(content)
    found = _SUBJECT.search(content, 0, end.start() if end else len(content))
    if found is None:
        return None
    value = _FOLD.sub(b"", found.group(1)).rstrip(b"\r").decode("utf-8", errors="replace").strip()
    if "=?" in value:  # RFC 2047 encoded words (a subject that is not ASCII)
        value = str(make_header(decode_header(value)))
    return value


# MAIL FROM:<a@b.c> SIZE=… as every client sends it: a dot-atom address in angle brackets, then
# parameters without comments or quotes. Anything else takes aiosmtpd's own parser.
_PLAIN_PATH = re.compile(r"\s*<([A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>[ \t]*([^(\"]*)\Z")


class _Smtp(SMTP):
    """aiosmtpd's server with a fast path for the plain `<address>` of MAIL and RCPT: its own
    parser (the email package's, and a class defined on each call) was a sixth of this process's
    CPU per email. tests/test_mail_sink.py checks it answers what aiosmtpd's does."""

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        plain = _PLAIN_PATH.match(arg)
        if plain is None or (self.local_part_limit and len(plain[1].rpartition("@")[0]) > self.local_part_limit):
            return super()._getaddr(arg)
        return plain[1], plain[2]


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _Smtp(self.handler, **self.SMTP_kwargs)


class SaveToDir:
    def __init__(self, directory: Path):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, _server, _session, envelope):
        name = f"{time.time():.6f}.eml"
        (self.directory / name).write_bytes(envelope.original_content)
        subject = subject_of(envelope.original_content)
        print(f"mail-sink: to={','.join(envelope.rcpt_tos)} subject={subject!r} -> {name}", flush=True)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    controller = _Controller(SaveToDir(args.dir), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"mail-sink: listening on 127.0.0.1:{args.port}, saving to {args.dir}", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
