"""Passwords, tokens and the refusal of default secrets outside dev mode."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from central.auth.domain import (
    InvalidToken,
    Principal,
    Role,
    hash_password,
    issue_token,
    read_token,
    verify_password,
)
from central.settings import Settings

SECRET = "s" * 40


def test_password_hash_verifies_and_is_salted() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second
    assert verify_password("correct horse", first)
    assert not verify_password("wrong", first)
    assert not verify_password("correct horse", "garbage")


def test_token_round_trip_and_tampering() -> None:
    now = datetime.now(UTC)
    token = issue_token(Principal("ana", Role.OPERATOR), SECRET, now, timedelta(minutes=5))
    assert read_token(token, SECRET) == Principal("ana", Role.OPERATOR)
    with pytest.raises(InvalidToken):
        read_token(token, "another-secret-" * 3)
    with pytest.raises(InvalidToken):
        read_token(token[:-3] + "abc", SECRET)


def test_expired_token_is_refused() -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    token = issue_token(Principal("ana", Role.ADMIN), SECRET, past, timedelta(minutes=5))
    with pytest.raises(InvalidToken):
        read_token(token, SECRET)


def test_prod_mode_refuses_default_secrets() -> None:
    with pytest.raises(ValidationError, match="WHS_SECRET_KEY"):
        Settings(mode="prod")
    with pytest.raises(ValidationError, match="WHS_ADMIN_PASSWORD"):
        Settings(mode="prod", secret_key=SECRET)
    assert Settings(mode="prod", secret_key=SECRET, admin_password="long-random-pw").mode == "prod"


def test_settings_read_whs_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHS_DATABASE_URL", "postgresql://db/whs")
    monkeypatch.setenv("WHS_RECEIVING_WEIGHT_TOLERANCE_PCT", "1.5")
    settings = Settings()
    assert settings.database_url == "postgresql://db/whs"
    assert str(settings.receiving_weight_tolerance_pct) == "1.5"
