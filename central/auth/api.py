"""Sign-in and user administration endpoints."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from central.auth import service
from central.auth.domain import ADMINISTER, READ, Principal, Role, issue_token
from central.common.clock import utcnow
from central.deps import ContainerDep, SessionDep, get_principal, require

router = APIRouter(prefix="/api/v1", tags=["auth"])


class TokenPublic(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: Role
    expires_in: int


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    password: str = Field(min_length=5, max_length=256)
    role: Role


class UserPublic(BaseModel):
    username: str
    role: Role
    active: bool


class MePublic(BaseModel):
    name: str
    role: Role


@router.post("/auth/token", response_model=TokenPublic)
def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    container: ContainerDep,
) -> TokenPublic:
    """Exchange a username and password for a bearer token (OAuth2 password flow)."""
    principal = service.authenticate(session, form.username, form.password)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    lifetime = timedelta(minutes=container.settings.access_token_minutes)
    token = issue_token(
        principal, container.settings.secret_key.get_secret_value(), utcnow(), lifetime
    )
    return TokenPublic(
        access_token=token, role=principal.role, expires_in=int(lifetime.total_seconds())
    )


@router.get("/me", response_model=MePublic)
def me(principal: Annotated[Principal, Depends(require(READ | {Role.DEVICE}))]) -> MePublic:
    """Who the token belongs to."""
    return MePublic(name=principal.name, role=principal.role)


@router.post("/users", response_model=UserPublic, status_code=201)
def create_user(
    body: UserCreate, session: SessionDep, _: Annotated[Principal, Depends(require(ADMINISTER))]
) -> UserPublic:
    """Create a user (admin only)."""
    user = service.create_user(session, body.username, body.password, body.role)
    return UserPublic(username=user.username, role=Role(user.role), active=user.active)


__all__ = ["get_principal", "router"]
