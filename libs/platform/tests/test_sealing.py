"""Sealed secrets open only with their key and context, and refuse anything altered or foreign."""
from __future__ import annotations

import pytest

from tillkey.platform.sealing import SealBroken, Sealer, derive_key


def test_a_sealed_value_opens_with_its_key_and_context_only():
    sealer = Sealer(derive_key("platform-secret", "test.sealing.v1"))
    sealed = sealer.seal(b"the secret", b"row-1")
    assert sealed.startswith("v1:") and b"the secret" not in sealed.encode()
    assert sealer.open(sealed, b"row-1") == b"the secret"
    assert sealer.seal(b"the secret", b"row-1") != sealed  # a fresh nonce each time
    with pytest.raises(SealBroken):
        sealer.open(sealed, b"row-2")  # copied onto another row
    with pytest.raises(SealBroken):
        Sealer(derive_key("another-secret", "test.sealing.v1")).open(sealed, b"row-1")
    with pytest.raises(SealBroken):
        Sealer(derive_key("platform-secret", "another.use.v1")).open(sealed, b"row-1")


@pytest.mark.parametrize("mangle", [
    lambda s: s[:-2] + ("A" if s[-2] != "A" else "B") + s[-1],  # one character of the tag changed
    lambda s: "v2:" + s[3:],                                    # another format's prefix
    lambda s: s[:10],                                           # cut short
    lambda s: "v1:%%%not-base64%%%",
    lambda s: "",
])
def test_an_altered_or_foreign_value_is_refused_with_seal_broken(mangle):
    sealer = Sealer(derive_key("platform-secret", "test.sealing.v1"))
    with pytest.raises(SealBroken):
        sealer.open(mangle(sealer.seal(b"the secret", b"ctx")), b"ctx")


def test_derived_keys_are_256_bits_and_differ_per_label():
    assert len(derive_key("s", "a")) == 32 and derive_key("s", "a") != derive_key("s", "b")
    assert derive_key("s", "a") == derive_key("s", "a")
