"""User accounts: creation, authentication, bootstrap of the first admin."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.auth.domain import Principal, Role, hash_password, verify_password
from central.common.errors import Conflict, InvalidInput
from central.db.tables import User

MIN_PASSWORD_LENGTH = 5


def create_user(session: Session, username: str, password: str, role: Role) -> User:
    """A new active user."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password needs at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"user {username!r} exists already")
    user = User(
        username=username, password_hash=hash_password(password), role=role.value, active=True
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> Principal | None:
    """The principal for valid credentials of an active user, else None."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not verify_password(password, user.password_hash):
        return None
    return Principal(user.username, Role(user.role))


def ensure_admin(session: Session, username: str, password: str) -> bool:
    """Create the first admin if no admin exists; True when one was created."""
    if session.scalar(select(User.id).where(User.role == Role.ADMIN.value).limit(1)):
        return False
    create_user(session, username, password, Role.ADMIN)
    return True
