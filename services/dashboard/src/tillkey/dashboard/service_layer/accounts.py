"""Merchant users: the first one created with the merchant's API key, sign-in, sign-out (one or all)."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tillkey.dashboard.domain.accounts import (
    InvalidAccount,
    MerchantUser,
    SignInSession,
    normalize_email,
    password_problem,
)
from tillkey.dashboard.service_layer.errors import AlreadyExists, NotFound, SignInFailed
from tillkey.dashboard.service_layer.ports import PasswordHasher, Sealer, UnitOfWork


def new_user_id() -> str:
    return f"usr_{secrets.token_urlsafe(12).replace('-', 'x').replace('_', 'y')}"


@dataclass(frozen=True)
class CreateMerchantUser:
    api_key: str
    email: str
    password: str
    merchant_name: str = ""


@dataclass(frozen=True)
class SignedIn:
    user_id: str
    merchant_id: str
    email: str
    merchant_name: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_merchant_user(cmd: CreateMerchantUser, merchant_id: str, uow: UnitOfWork, hasher: PasswordHasher,
                         sealer: Sealer, now: datetime) -> MerchantUser:
    """`merchant_id` is the one the key names (checked by the caller). The key is kept sealed, for the
    dashboard's calls on the user's behalf; a newer key for the same merchant replaces it."""
    email = normalize_email(cmd.email)
    problem = password_problem(cmd.password)
    if problem:
        raise InvalidAccount({"password": problem})
    user = MerchantUser(new_user_id(), merchant_id, email, hasher.hash(cmd.password))
    with uow:
        if uow.accounts.user_by_email(email) is not None:
            raise AlreadyExists(f"A dashboard user {email} exists already.")
        uow.accounts.add_merchant(merchant_id, cmd.merchant_name.strip()[:200], sealer.seal(cmd.api_key), now)
        uow.accounts.add_user(user, now)
        uow.commit()
    return user


def sign_in(email: str, password: str, uow: UnitOfWork, hasher: PasswordHasher, now: datetime,
            lifetime_seconds: float) -> str:
    """A new session's token (for the cookie), or SignInFailed."""
    try:
        email = normalize_email(email)
    except InvalidAccount:
        raise SignInFailed() from None
    with uow:
        user = uow.accounts.user_by_email(email)
    # An unknown email costs the same hash as a known one: the time taken tells nothing either.
    if not hasher.verify(user.password_hash if user else _DECOY_HASH.get(hasher), password or ""):
        raise SignInFailed()
    if user is None:
        raise SignInFailed()
    token = secrets.token_urlsafe(32)
    with uow:
        # Sessions nobody came back to would stay forever: each sign-in clears the expired ones.
        uow.accounts.delete_expired_sessions(now)
        uow.accounts.add_session(SignInSession(token_hash(token), user.user_id, now,
                                               now + timedelta(seconds=lifetime_seconds)))
        uow.commit()
    return token


class _Decoy:
    """One hash of a random password per hasher, made on first use."""

    def __init__(self) -> None:
        self._hashes: dict[int, str] = {}

    def get(self, hasher: PasswordHasher) -> str:
        if id(hasher) not in self._hashes:
            self._hashes[id(hasher)] = hasher.hash(secrets.token_urlsafe(16))
        return self._hashes[id(hasher)]


_DECOY_HASH = _Decoy()


def signed_in(token: str | None, uow: UnitOfWork, now: datetime) -> SignedIn | None:
    if not token:
        return None
    with uow:
        session = uow.accounts.session(token_hash(token))
        if session is None:
            return None
        if not session.active(now):
            uow.accounts.delete_session(session.token_hash)
            uow.commit()
            return None
        user = uow.accounts.user(session.user_id)
        merchant = uow.accounts.merchant(user.merchant_id) if user else None
    if user is None or merchant is None:
        return None
    return SignedIn(user.user_id, user.merchant_id, user.email, merchant["name"] or user.merchant_id)


def sign_out(token: str | None, uow: UnitOfWork) -> None:
    if not token:
        return
    with uow:
        uow.accounts.delete_session(token_hash(token))
        uow.commit()


def sign_out_everywhere(user_id: str, uow: UnitOfWork) -> int:
    with uow:
        count = uow.accounts.delete_sessions_of(user_id)
        uow.commit()
    return count


def merchant_api_key(merchant_id: str, uow: UnitOfWork, sealer: Sealer) -> str:
    with uow:
        merchant = uow.accounts.merchant(merchant_id)
    if merchant is None:
        raise LookupError(merchant_id)
    return sealer.open(merchant["sealed_api_key"])


def users_of(merchant_id: str, uow: UnitOfWork) -> list[MerchantUser]:
    with uow:
        return uow.accounts.users_of(merchant_id)


def add_colleague(signed: SignedIn, email: str, password: str, uow: UnitOfWork, hasher: PasswordHasher,
                  now: datetime) -> MerchantUser:
    """A signed-in user adds another user of the same merchant, with a first password to hand over
    (an invitation by email is still to do: docs/dashboard.md)."""
    email = normalize_email(email)
    problem = password_problem(password)
    if problem:
        raise InvalidAccount({"password": problem})
    user = MerchantUser(new_user_id(), signed.merchant_id, email, hasher.hash(password))
    with uow:
        if uow.accounts.user_by_email(email) is not None:
            raise AlreadyExists(f"A dashboard user {email} exists already.")
        uow.accounts.add_user(user, now)
        uow.commit()
    return user


def change_password(signed: SignedIn, current: str, new: str, keep_token: str | None, uow: UnitOfWork,
                    hasher: PasswordHasher) -> None:
    """The current password proves it is the user; every other session ends (a changed password
    is often a suspected leak), this one stays."""
    with uow:
        user = uow.accounts.user(signed.user_id)
    if user is None or not hasher.verify(user.password_hash, current or ""):
        raise InvalidAccount({"current_password": "That is not your current password."})
    problem = password_problem(new)
    if problem:
        raise InvalidAccount({"new_password": problem})
    with uow:
        uow.accounts.set_password_hash(user.user_id, hasher.hash(new))
        kept = uow.accounts.session(token_hash(keep_token)) if keep_token else None
        uow.accounts.delete_sessions_of(user.user_id)
        if kept is not None:
            uow.accounts.add_session(kept)
        uow.commit()


def remove_colleague(signed: SignedIn, user_id: str, uow: UnitOfWork) -> str:
    """Another user of the same merchant goes, with every sign-in of theirs; their email. Never
    oneself (sign out instead) and so never the merchant's last user: someone must be able to sign
    in. Another merchant's user, or no user, is NotFound."""
    if user_id == signed.user_id:
        raise InvalidAccount({"user": "You cannot remove yourself; another user of your account can."})
    with uow:
        user = uow.accounts.user(user_id)
        if user is None or user.merchant_id != signed.merchant_id:
            raise NotFound(user_id)
        if not uow.accounts.delete_user_unless_last(user_id, signed.merchant_id):  # the signer removed meanwhile
            raise InvalidAccount({"user": "The last user of an account cannot be removed."})
        uow.commit()
    return user.email
