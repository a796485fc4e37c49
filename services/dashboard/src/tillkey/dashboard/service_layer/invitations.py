"""Inviting a colleague: the inviter gets a one-time link that expires, and hands it over as they
like (docs/dashboard.md, "Invitations"). The dashboard sends no email: it has no broker connection,
and the platform's emails are notifications' to send."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from tillkey.dashboard.domain.accounts import (
    InvalidAccount,
    Invitation,
    MerchantUser,
    SignInSession,
    normalize_email,
    password_problem,
)
from tillkey.dashboard.service_layer.accounts import SignedIn, new_user_id, token_hash
from tillkey.dashboard.service_layer.errors import AlreadyExists, NotFound
from tillkey.dashboard.service_layer.ports import PasswordHasher, UnitOfWork

INVITATION_LIFETIME = timedelta(days=3)


def invite(signed: SignedIn, email: str, uow: UnitOfWork, now: datetime) -> tuple[Invitation, str]:
    """The invitation and its token (for the link, shown once; only its hash is kept). A newer
    invitation for the same email replaces the older one, whose link stops working."""
    email = normalize_email(email)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(f"inv_{secrets.token_hex(8)}", token_hash(token), signed.merchant_id, email,
                            signed.email, now, now + INVITATION_LIFETIME)
    with uow:
        if uow.accounts.user_by_email(email) is not None:
            raise AlreadyExists(f"A dashboard user {email} exists already.")
        uow.accounts.delete_expired_invitations(now)
        uow.accounts.delete_invitations_for(email, signed.merchant_id)
        uow.accounts.add_invitation(invitation)
        uow.commit()
    return invitation, token


def pending(merchant_id: str, uow: UnitOfWork, now: datetime) -> list[Invitation]:
    with uow:
        return [i for i in uow.accounts.invitations_of(merchant_id) if i.active(now)]


def withdraw(signed: SignedIn, invitation_id: str, uow: UnitOfWork) -> None:
    with uow:
        if not uow.accounts.delete_invitation(invitation_id, signed.merchant_id):
            raise NotFound(invitation_id)
        uow.commit()


def open_invitation(token: str, uow: UnitOfWork, now: datetime) -> Invitation:
    """The invitation a link names, if it is still good; else NotFound (used, withdrawn, expired or
    never made: the page does not say which)."""
    with uow:
        invitation = uow.accounts.invitation(token_hash(token or ""))
    if invitation is None or not invitation.active(now):
        raise NotFound("invitation")
    return invitation


def accept(token: str, password: str, uow: UnitOfWork, hasher: PasswordHasher, now: datetime,
           session_lifetime: float) -> str:
    """The invited colleague chooses a password: their user is made for the inviting merchant, the
    invitation is used up, and they are signed in (the new session's token)."""
    invitation = open_invitation(token, uow, now)
    problem = password_problem(password)
    if problem:
        raise InvalidAccount({"password": problem})
    user = MerchantUser(new_user_id(), invitation.merchant_id, invitation.email, hasher.hash(password))
    session_token = secrets.token_urlsafe(32)
    with uow:
        # Deleting the row is what uses the link: a second, simultaneous use finds it gone.
        if not uow.accounts.delete_invitation(invitation.invitation_id, invitation.merchant_id):
            raise NotFound("invitation")
        if uow.accounts.user_by_email(invitation.email) is not None:
            raise AlreadyExists(f"A dashboard user {invitation.email} exists already.")
        uow.accounts.add_user(user, now)
        uow.accounts.add_session(SignInSession(token_hash(session_token), user.user_id, now,
                                               now + timedelta(seconds=session_lifetime)))
        uow.commit()
    return session_token
