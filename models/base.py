"""Base model for every contract: strict about unknown keys so typos surface instead of being ignored."""

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=True)


IDENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
"""Site and camera ids end up in MQTT topic levels and file names, so no '/', '+', '#' or spaces."""

SHA256_PATTERN = r"^[0-9a-f]{64}$"
