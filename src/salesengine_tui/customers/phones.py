"""Phone numbers: read as people type them, stored as E.164 with the extension apart, shown
in national format. The one home of the phone rules (the form, the CSV import, the
duplicate check, migration 0017 and every screen that shows a number use it).

`customers.phone` holds `+19726532552` and `customers.phone_ext` holds `12`; a number stored
before revision 0017 that could not be read stays as it was typed and is shown as stored.

`phonenumbers` is imported inside the functions: it costs about 150 ms, and the app's
start-up does not need it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..base.errors import UserError
from ..base.validation import printable

if TYPE_CHECKING:
    from phonenumbers import PhoneNumber

DEFAULT_REGION = "US"  # the setting phone_region's default: numbers typed without a +
EXT_MAX = 8  # digits in an extension

# What people type: the number (digits and the punctuation of phone numbers), then maybe an
# extension: "ext 12", "ext. 12", "extension 12", "x12", "#12", ";ext=12" (RFC 3966).
_TYPED = re.compile(
    r"^(?:tel:)?(?P<number>\+?[0-9().\-/\s]*[0-9][0-9().\-/\s]*?)"
    r"(?:\s*(?:;\s*ext\s*=|ext(?:ension)?\.?|x|#)\s*(?P<ext>[0-9]+))?\s*$",
    re.IGNORECASE,
)
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@dataclass(frozen=True)
class Phone:
    """A number as stored: E.164 and the extension (digits) or None."""

    number: str
    ext: str | None = None


def parse_phone(
    value: str | None, field: str = "phone", *, region: str = DEFAULT_REGION
) -> Phone | None:
    """A phone number as typed or imported ("(972) 653-2552", "972.653.2552 ext 12",
    "+1 972 653 2552 x12", "9726532552#12") as E.164 and extension; blank is None. A number
    without a country code is read in `region`'s. Anything else is a UserError naming `field`."""
    text = (value or "").strip()
    if not text:
        return None
    typed = _TYPED.match(text)
    if typed is None:
        raise UserError(
            f"{field} {printable(text)[:40]!r} is not a phone number: use digits, with an "
            "extension after 'ext' or 'x' (e.g. (972) 653-2552 ext 12)"
        )
    ext = typed.group("ext")
    if ext is not None and len(ext) > EXT_MAX:
        raise UserError(f"{field}: the extension {ext!r} is longer than {EXT_MAX} digits")
    parsed = _parsed(typed.group("number"), region)
    if parsed is None:
        digits = sum(ch.isdigit() for ch in typed.group("number"))
        hint = "the area code is missing?" if digits < 10 else "check the digits"
        raise UserError(f"{field} {printable(text)[:40]!r} is not a valid phone number ({hint})")
    import phonenumbers

    return Phone(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), ext)


def _parsed(number: str, region: str, *, valid: bool = True) -> PhoneNumber | None:
    """The number read in `region`, if it is a valid one (a real country and area code;
    any number when not `valid`)."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    return parsed if not valid or phonenumbers.is_valid_number(parsed) else None


def phone_unchanged(typed: str | None, number: str | None, ext: str | None) -> bool:
    """Whether `typed` is the stored number as the screens show it (the edit form's start):
    kept as stored, not read again, so a number revision 0017 left as typed can stay while
    the rest of the contact is edited."""
    return (typed or "").strip() == (phone_display(number, ext) or "")


def phone_display(
    number: str | None, ext: str | None = None, *, region: str = DEFAULT_REGION
) -> str | None:
    """How every screen shows a stored number: national format for `region`'s country
    ("(972) 653-2552 ext. 12"), international for another's ("+44 20 7123 4567"). A value
    that is not E.164 (stored before revision 0017 and unreadable) is shown as it is stored,
    with its extension; the caller shows it through `ui.display` as any stored text. None when
    there is no number."""
    if not number:
        return None
    shown = number
    if _E164.match(number):
        import phonenumbers

        # Shown in its country's format even where the number plan has no such number
        # (written by SQL or another system): what is stored is shown, only grouped.
        parsed = _parsed(number, region, valid=False)
        if parsed is not None:
            home = parsed.country_code == phonenumbers.country_code_for_region(region)
            style = (
                phonenumbers.PhoneNumberFormat.NATIONAL
                if home
                else phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
            shown = phonenumbers.format_number(parsed, style)
    return f"{shown} ext. {ext}" if ext else shown
