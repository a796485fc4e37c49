"""A local SMTP server for `make run`: keeps every email as an .eml file and prints a line."""
from __future__ import annotations

import argparse
import time
from email.parser import BytesHeaderParser
from email.policy import default
from pathlib import Path

from aiosmtpd.controller import Controller


class SaveToDir:
    def __init__(self, directory: Path):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, _server, _session, envelope):
        # Headers only: the line below needs the Subject, and parsing the whole message (its parts,
        # every header through the registry) was most of this process's CPU per email.
        msg = BytesHeaderParser(policy=default).parsebytes(envelope.original_content)
        name = f"{time.time():.6f}.eml"
        (self.directory / name).write_bytes(envelope.original_content)
        print(f"mail-sink: to={','.join(envelope.rcpt_tos)} subject={msg['Subject']!r} -> {name}", flush=True)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    controller = Controller(SaveToDir(args.dir), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"mail-sink: listening on 127.0.0.1:{args.port}, saving to {args.dir}", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
