"""What is wrong with a message already stored, judged by today's rules for a message received (issue 28 §4).

Older versions stored messages that today's ingest would quarantine (an int for a time, a bool for a number, an
event lasting decades). They stay as they were signed, never fixed in place: the console shows an item's
breaches beside it and `central list --invalid` lists them. The times are judged against when central received
the message, with ingest's default skew and age."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from central.tables import Infraction
from central.verify import implausible_time
from models.errors import format_validation_error
from models.infraction import InfractionMessage
from models.item_status import ItemStatusMessage


def breaches(
    model: type[InfractionMessage] | type[ItemStatusMessage], payload: dict[str, Any], received_at: datetime
) -> list[str]:
    """Each way `payload` breaks the message's types or invariants; empty for a message ingest accepts today."""
    try:
        message = model.model_validate(payload)
    except ValidationError as exc:
        return format_validation_error(exc, model)
    late = implausible_time(message, received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC))
    return [late] if late else []


def infraction_breaches(row: Infraction) -> list[str]:
    return breaches(InfractionMessage, row.payload, row.received_at)
