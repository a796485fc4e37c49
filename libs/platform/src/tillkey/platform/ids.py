"""Opaque prefixed ids (`ord_…`) and secrets with at least 128 random bits."""
import secrets

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def random_base62(nbytes: int = 16) -> str:
    number = int.from_bytes(secrets.token_bytes(nbytes), "big")
    out = []
    while number:
        number, rem = divmod(number, 62)
        out.append(_ALPHABET[rem])
    return "".join(reversed(out)).rjust(22, "0")


def new_id(prefix: str) -> str:
    """128 random bits: ids are unguessable, which cart ids rely on."""
    return f"{prefix}_{random_base62(16)}"
