"""An email's bytes, written directly: the same bytes `EmailMessage` with `policy.default` and
`BytesGenerator` produce for our one shape of message (multipart/alternative: text, then html).

Why not the stdlib's objects: they parse every header on assignment (`email.headerregistry`)
and parse and fold it again when flattening — about 1.8 ms per email, the largest cost of the
sender. Here a header is written as it stands when the stdlib would write it unchanged (plain
ASCII that fits on one line); anything else — a non-ASCII subject or name that needs RFC 2047
encoded words, a long line to fold, an unusual address — goes through the stdlib's own header
folding, so it comes out exactly as before. The body parts pick their transfer encoding by the
stdlib's rule (`_text_part`). tests/unit/test_mime.py compares the bytes with the stdlib's.
"""
from __future__ import annotations

import binascii
import random
import re
import sys
from datetime import datetime
from email import policy as email_policy
from email import quoprimime
from email.utils import format_datetime

CRLF = "\r\n"
MAX_LINE = 78  # policy.default.max_line_length
_POLICY = email_policy.default.clone(linesep=CRLF)
# Printable ASCII without an encoded-word opener: the stdlib writes such a one-line value unchanged.
_VERBATIM = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
_BOUNDARY_WIDTH = len(repr(sys.maxsize - 1))  # as email.generator makes them


def header(name: str, value: str) -> str:
    """`Name: value` and CRLF, as the default policy folds it."""
    if len(name) + 2 + len(value) <= MAX_LINE and _VERBATIM.fullmatch(value) and "=?" not in value:
        return f"{name}: {value}{CRLF}"
    return _POLICY.header_factory(name, value).fold(policy=_POLICY)


def address_header(name: str, address: str) -> str:
    """An address header: a bare, plain address is written as is (the parser would keep it so)."""
    if len(name) + 2 + len(address) <= MAX_LINE and _PLAIN_ADDRESS.fullmatch(address):
        return f"{name}: {address}{CRLF}"
    return _POLICY.header_factory(name, address).fold(policy=_POLICY)


def date_header(now: datetime) -> str:
    # The stdlib parses the RFC 2822 date it is given and writes it back with a numeric zone.
    return f"Date: {format_datetime(now)}{CRLF}"


def alternative(headers: str, text: str, html: str) -> bytes:
    """`headers` (each ending in CRLF), then the text and html parts as `add_alternative` lays them out."""
    text_cte, text_body = _text_part(text)
    html_cte, html_body = _text_part(html)
    first = (f'Content-Type: text/plain; charset="utf-8"{CRLF}Content-Transfer-Encoding: {text_cte}{CRLF}'
             f"{CRLF}{text_body}")
    # The second part repeats MIME-Version: add_alternative builds it as a whole EmailMessage.
    second = (f'Content-Type: text/html; charset="utf-8"{CRLF}Content-Transfer-Encoding: {html_cte}{CRLF}'
              f"MIME-Version: 1.0{CRLF}{CRLF}{html_body}")
    boundary = _boundary(first + second)
    out = (f"{headers}MIME-Version: 1.0{CRLF}Content-Type: multipart/alternative;{CRLF}"
           f' boundary="{boundary}"{CRLF}{CRLF}'
           f"--{boundary}{CRLF}{first}{CRLF}--{boundary}{CRLF}{second}{CRLF}--{boundary}--{CRLF}")
    # 8bit parts hold UTF-8 smuggled as surrogates, exactly as BytesGenerator writes them back.
    return out.encode("ascii", "surrogateescape")


def _text_part(string: str) -> tuple[str, str]:
    """(Content-Transfer-Encoding, body with CRLF line ends) by email.contentmanager's rule for
    set_content(str): 7bit if ASCII with short lines, 8bit if only non-ASCII, else the shorter
    of quoted-printable and base64 judged on the first ten lines."""
    lines = string.encode("utf-8").splitlines()
    if max((len(line) for line in lines), default=0) <= MAX_LINE:
        body = b"\n".join(lines) + b"\n"
        try:
            return "7bit", _crlf(body.decode("ascii"))
        except UnicodeDecodeError:
            return "8bit", _crlf(body.decode("ascii", "surrogateescape"))
    sniff = b"\n".join(lines[:10]) + b"\n"
    sniff_qp = quoprimime.body_encode(sniff.decode("latin-1"), MAX_LINE)
    if len(sniff_qp) > len(binascii.b2a_base64(sniff)):
        whole = b"\n".join(lines) + b"\n"
        step = MAX_LINE // 4 * 3
        return "base64", _crlf("".join(binascii.b2a_base64(whole[i:i + step]).decode("ascii")
                                       for i in range(0, len(whole), step)))
    if len(lines) <= 10:
        return "quoted-printable", _crlf(sniff_qp)
    return "quoted-printable", _crlf(quoprimime.body_encode((b"\n".join(lines) + b"\n").decode("latin-1"), MAX_LINE))


def _crlf(body: str) -> str:
    # The generator writes each line with CRLF; lines here are only ever split by "\n" (the text
    # was split as bytes, quoted-printable escapes a CR, base64 has none).
    return body.replace("\n", CRLF)


def _boundary(text: str) -> str:
    """A random boundary shaped like email.generator's, that no line of the parts starts with."""
    while True:
        boundary = "=" * 15 + f"{random.randrange(sys.maxsize):0{_BOUNDARY_WIDTH}d}" + "=="
        if "--" + boundary not in text:
            return boundary
