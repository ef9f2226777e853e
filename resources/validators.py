import re

from django.core.exceptions import ValidationError

# Digits with the usual separators, an optional leading +; short codes (233733, 911) allowed.
PHONE_SHAPE = re.compile(r"^\+?[0-9(][0-9 ().\-]*[0-9]$")


def validate_phone_number(value):
    digits = sum(ch.isdigit() for ch in value)
    if not PHONE_SHAPE.match(value) or not 3 <= digits <= 15:
        raise ValidationError(
            "Enter a phone number as it is dialled, e.g. 1-888-373-7888, (312) 555-0100 "
            "or a short code like 233733.",
            code="invalid_phone",
        )
