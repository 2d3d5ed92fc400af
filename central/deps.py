"""FastAPI dependencies: the unit of work per request and the caller's principal."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session, sessionmaker

from central.auth.domain import InvalidToken, Principal, Role, read_token
from central.inbound.domain import WeightTolerance
from central.settings import Settings


@dataclass
class Container:
    """What the composition root wires for the request handlers."""

    settings: Settings
    sessions: sessionmaker[Session]

    @property
    def tolerance(self) -> WeightTolerance:
        """Receiving weight tolerance from settings."""
        return WeightTolerance(
            self.settings.receiving_weight_tolerance_pct,
            self.settings.receiving_weight_tolerance_kg,
        )

    @property
    def pack_tolerance(self) -> WeightTolerance:
        """Pack-station weight tolerance from settings."""
        return WeightTolerance(
            self.settings.packing_weight_tolerance_pct, self.settings.packing_weight_tolerance_kg
        )


async def db_gate(request: Request) -> AsyncIterator[None]:
    """Admit a bounded number of requests to the database at once.

    Sync endpoints and their response serialisation share one thread pool. Without this gate,
    a burst of requests can fill that pool with threads waiting for a database lock while the
    lock holder waits for a thread to finish its response: a deadlock until timeouts fire.
    The gate waits on the event loop, so it holds no thread.
    """
    async with request.app.state.db_gate:
        yield


async def get_container(request: Request, _gate: Annotated[None, Depends(db_gate)]) -> Container:
    """The app's container (behind the database gate).

    This and the other dependencies without I/O are `async`: FastAPI runs a sync dependency
    in the thread pool, and each such hop cost more CPU than the work it does.
    """
    container: Container = request.app.state.container
    return container


async def get_session(
    container: Annotated[Container, Depends(get_container)],
) -> AsyncIterator[Session]:
    """One transaction per request: committed on success, rolled back whole on any error.

    Opening it needs no I/O (the connection is taken at the first statement), so only the
    commit or rollback at the end goes to the thread pool.
    """
    session = container.sessions()
    session.begin()
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(session.close)  # rolls the transaction back
        raise
    await run_in_threadpool(_commit, session)


def _commit(session: Session) -> None:
    try:
        session.commit()
    finally:
        session.close()


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_principal(
    token: Annotated[str | None, Depends(oauth2_scheme)],
    container: Annotated[Container, Depends(get_container)],
) -> Principal:
    """The authenticated caller; 401 without a valid bearer token."""
    unauthorized = HTTPException(
        status.HTTP_401_UNAUTHORIZED, "not authenticated", headers={"WWW-Authenticate": "Bearer"}
    )
    if not token:
        raise unauthorized
    try:
        return read_token(token, container.settings.secret_key.get_secret_value())
    except InvalidToken as exc:
        raise unauthorized from exc


def require(roles: frozenset[Role]) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only `roles` through (403 for the others)."""

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(sorted(r.value for r in roles))
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"role {principal.role} may not do this (needs {allowed})",
            )
        return principal

    return check


# "function": commit before the response is sent, so a 2xx means the change is stored and
# visible to the client's next request (the default ends the dependency after sending).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ContainerDep = Annotated[Container, Depends(get_container)]
