"""The accounts repository and unit of work on SQLAlchemy Core: one transaction per `with`."""
from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from tillkey.dashboard.adapters import tables as t
from tillkey.dashboard.domain.accounts import Invitation, MerchantUser, SignInSession
from tillkey.dashboard.service_layer.ports import Accounts, SupportRecords


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)   # SQLite hands back naive datetimes


class SqlAccounts:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add_merchant(self, merchant_id: str, name: str, sealed_api_key: str, now: datetime) -> None:
        existing = self.merchant(merchant_id)
        if existing is None:
            self.conn.execute(insert(t.merchants).values(merchant_id=merchant_id, name=name,
                                                         sealed_api_key=sealed_api_key, created_at=now))
        else:   # a newer key (or name) for the same merchant replaces the kept one
            self.conn.execute(update(t.merchants).where(t.merchants.c.merchant_id == merchant_id)
                              .values(sealed_api_key=sealed_api_key, name=name or existing["name"]))

    def merchant(self, merchant_id: str) -> dict | None:
        row = self.conn.execute(select(t.merchants).where(t.merchants.c.merchant_id == merchant_id)).mappings().first()
        return dict(row) if row else None

    def add_user(self, user: MerchantUser, now: datetime) -> None:
        self.conn.execute(insert(t.users).values(user_id=user.user_id, merchant_id=user.merchant_id, email=user.email,
                                                 password_hash=user.password_hash, created_at=now))

    def _user(self, where) -> MerchantUser | None:
        row = self.conn.execute(select(t.users.c.user_id, t.users.c.merchant_id, t.users.c.email,
                                       t.users.c.password_hash).where(where)).first()
        return MerchantUser(*row) if row else None

    def user_by_email(self, email: str) -> MerchantUser | None:
        return self._user(t.users.c.email == email)

    def user(self, user_id: str) -> MerchantUser | None:
        return self._user(t.users.c.user_id == user_id)

    def users_of(self, merchant_id: str) -> list[MerchantUser]:
        rows = self.conn.execute(select(t.users.c.user_id, t.users.c.merchant_id, t.users.c.email,
                                        t.users.c.password_hash).where(t.users.c.merchant_id == merchant_id)
                                 .order_by(t.users.c.email)).all()
        return [MerchantUser(*row) for row in rows]

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self.conn.execute(update(t.users).where(t.users.c.user_id == user_id).values(password_hash=password_hash))

    def add_session(self, session: SignInSession) -> None:
        self.conn.execute(insert(t.sessions).values(token_hash=session.token_hash, user_id=session.user_id,
                                                    created_at=session.created_at, expires_at=session.expires_at))

    def session(self, token_hash: str) -> SignInSession | None:
        row = self.conn.execute(select(t.sessions).where(t.sessions.c.token_hash == token_hash)).mappings().first()
        if row is None:
            return None
        return SignInSession(row["token_hash"], row["user_id"], _aware(row["created_at"]), _aware(row["expires_at"]))

    def delete_session(self, token_hash: str) -> None:
        self.conn.execute(delete(t.sessions).where(t.sessions.c.token_hash == token_hash))

    def delete_sessions_of(self, user_id: str) -> int:
        return self.conn.execute(delete(t.sessions).where(t.sessions.c.user_id == user_id)).rowcount

    def delete_expired_sessions(self, now: datetime) -> int:
        return self.conn.execute(delete(t.sessions).where(t.sessions.c.expires_at <= now)).rowcount

    def delete_user_unless_last(self, user_id: str, merchant_id: str) -> bool:
        """The user and every session of theirs (signed out at their next request), unless they are
        the merchant's last user. The merchant's row is locked first (PostgreSQL), so two users
        removing each other at once cannot leave the merchant with none."""
        self.conn.execute(select(t.merchants.c.merchant_id).where(t.merchants.c.merchant_id == merchant_id)
                          .with_for_update())
        count = self.conn.execute(select(func.count()).select_from(t.users)
                                  .where(t.users.c.merchant_id == merchant_id)).scalar_one()
        if count < 2:
            return False
        self.conn.execute(delete(t.sessions).where(t.sessions.c.user_id == user_id))
        self.conn.execute(delete(t.users).where(t.users.c.user_id == user_id))
        return True

    def add_invitation(self, invitation: Invitation) -> None:
        self.conn.execute(insert(t.invitations).values(**asdict(invitation)))

    def invitation(self, token_hash: str) -> Invitation | None:
        row = self.conn.execute(select(t.invitations)
                                .where(t.invitations.c.token_hash == token_hash)).mappings().first()
        return _invitation(row) if row else None

    def invitations_of(self, merchant_id: str) -> list[Invitation]:
        rows = self.conn.execute(select(t.invitations).where(t.invitations.c.merchant_id == merchant_id)
                                 .order_by(t.invitations.c.created_at)).mappings().all()
        return [_invitation(row) for row in rows]

    def delete_invitation(self, invitation_id: str, merchant_id: str) -> int:
        """0 when it is gone already (used, withdrawn) or another merchant's."""
        return self.conn.execute(delete(t.invitations).where(t.invitations.c.invitation_id == invitation_id,
                                                             t.invitations.c.merchant_id == merchant_id)).rowcount

    def delete_invitations_for(self, email: str, merchant_id: str) -> int:
        return self.conn.execute(delete(t.invitations).where(t.invitations.c.email == email,
                                                             t.invitations.c.merchant_id == merchant_id)).rowcount

    def delete_expired_invitations(self, now: datetime) -> int:
        return self.conn.execute(delete(t.invitations).where(t.invitations.c.expires_at <= now)).rowcount


def _invitation(row) -> Invitation:
    return Invitation(row["invitation_id"], row["token_hash"], row["merchant_id"], row["email"], row["invited_by"],
                      _aware(row["created_at"]), _aware(row["expires_at"]))


class SqlSupport:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add_session(self, token_hash: str, name: str, now: datetime, expires_at: datetime) -> None:
        self.conn.execute(insert(t.support_sessions).values(token_hash=token_hash, name=name, created_at=now,
                                                            expires_at=expires_at))

    def session(self, token_hash: str) -> tuple[str, datetime] | None:
        row = self.conn.execute(select(t.support_sessions.c.name, t.support_sessions.c.expires_at)
                                .where(t.support_sessions.c.token_hash == token_hash)).first()
        return (row[0], _aware(row[1])) if row else None

    def delete_session(self, token_hash: str) -> None:
        self.conn.execute(delete(t.support_sessions).where(t.support_sessions.c.token_hash == token_hash))

    def delete_expired_sessions(self, now: datetime) -> int:
        return self.conn.execute(delete(t.support_sessions).where(t.support_sessions.c.expires_at <= now)).rowcount

    def record(self, action_id: str, order_id: str | None, action: str, reason: str, who: str, now: datetime,
               subject: str | None = None) -> None:
        self.conn.execute(insert(t.support_actions).values(action_id=action_id, order_id=order_id, action=action,
                                                           reason=reason, who=who, at=now, subject=subject))

    def recent_actions(self, action_prefix: str, limit: int = 50) -> list[dict]:
        """The newest entries whose action starts with `action_prefix` (the dead letters page's replays)."""
        a = t.support_actions.c
        rows = self.conn.execute(select(t.support_actions).where(a.action.startswith(action_prefix))
                                 .order_by(a.at.desc()).limit(limit)).mappings().all()
        return [{**row, "at": _aware(row["at"])} for row in rows]

    def actions_of(self, order_id: str) -> list[dict]:
        rows = self.conn.execute(select(t.support_actions).where(t.support_actions.c.order_id == order_id)
                                 .order_by(t.support_actions.c.at)).mappings().all()
        return [{**row, "at": _aware(row["at"])} for row in rows]


class SqlUnitOfWork:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.conn: Connection | None = None

    def __enter__(self) -> SqlUnitOfWork:
        self.conn = self.engine.connect()
        self._tx = self.conn.begin()
        self.accounts: Accounts = SqlAccounts(self.conn)
        self.support: SupportRecords = SqlSupport(self.conn)
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._tx.is_active:
                self._tx.rollback()      # nothing is kept that was not committed
        finally:
            if self.conn is None:  # set by __enter__
                raise RuntimeError("the unit of work is used outside its `with` block")
            self.conn.close()

    def commit(self) -> None:
        self._tx.commit()
