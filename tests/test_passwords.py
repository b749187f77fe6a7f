"""The password rules (NIST SP 800-63B, ASVS 2.1): length, no composition rules, no common or context-specific passwords."""

from __future__ import annotations

import pytest

from bot.store.passwords import MAX_LENGTH, MIN_LENGTH, CommonPasswordError, PasswordTooLongError, PasswordTooShortError, check_rules, common_passwords


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery",
        "ein langer Satz von mir",
        "Brötchen backen wir um vier",
        "x7#" * 4,
        "a" * 5 + "b" * 7,
        "🥐🥐 Croissant am Morgen",
        "z" * 11 + "y",
    ],
)
def test_long_passwords_of_any_characters_are_allowed_without_composition_rules(password):
    check_rules(password, "anna@example.de")


@pytest.mark.parametrize(
    ("password", "error"),
    [
        ("elf Zeichen", PasswordTooShortError),
        ("a" + " " * 10 + "b", PasswordTooShortError),  # runs of spaces count as one
        ("x" * (MAX_LENGTH + 1), PasswordTooLongError),
        ("passwordpassword", CommonPasswordError) if "passwordpassword" in common_passwords() else ("password123456", CommonPasswordError),
        ("Password123456!", CommonPasswordError),  # the common "password" with digits and punctuation at the end
        ("aaaaaaaaaaaaaa", CommonPasswordError),
        ("anna@example.de", CommonPasswordError),  # the e-mail address
        ("anna@example.de1", CommonPasswordError),
        ("WhatsApp2026!!!", CommonPasswordError),  # the service's own word
    ],
)
def test_short_long_common_and_context_passwords_are_refused(password, error):
    with pytest.raises(error):
        check_rules(password, "anna@example.de")


def test_the_shipped_list_is_loaded_and_lower_case():
    words = common_passwords()
    assert len(words) > 19_000 and all(w == w.lower() for w in list(words)[:500]) and MIN_LENGTH == 12
