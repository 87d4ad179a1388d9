"""The password rules count what a password shows: characters that show as nothing (zero-width spaces and
joiners, other format and control characters, whitespace) do not make it long enough."""

from __future__ import annotations

import pytest

from central.console.auth import MIN_PASSWORD_LENGTH, AuthError, check_password_rules

VISIBLE = f"at least {MIN_PASSWORD_LENGTH} visible characters"


@pytest.mark.parametrize(
    "password",
    [
        "\u200b" * 20,  # zero-width space
        "\u200d" * 12,  # zero-width joiner
        "\u2060\u00ad\u200e\ufeff" * 4,  # word joiner, soft hyphen, left-to-right mark, BOM
        "\x00\x07" * 6,  # control characters
        "Tr0ub4do" + "\u200b \u200c" * 4,  # eight visible characters padded out
    ],
)
def test_a_password_of_invisible_characters_is_refused(password: str) -> None:
    """Issue 23 §12: a password made only of zero-width or format characters (category Cf) was accepted."""
    with pytest.raises(AuthError, match=VISIBLE):
        check_password_rules(password, "alice")


def test_invisible_characters_do_not_stop_an_otherwise_good_password() -> None:
    """Issue 23 §12: the visible count adds a floor; it refuses nothing that shows enough."""
    check_password_rules("gravel \u200dlantern 7 quietly", "alice")
