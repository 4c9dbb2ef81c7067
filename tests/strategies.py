"""Shared pieces of the property-based tests (hypothesis): their settings and the
troublemaker strings they mix into what hypothesis draws."""

import hypothesis
from django.test.client import BOUNDARY
from hypothesis import HealthCheck


def fuzz_settings(max_examples):
    return hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# Hand-picked troublemakers, mixed with hypothesis' own unicode (st.text() already covers NUL and
# every plane; surrogates cannot be in a str).
NASTY_STRINGS = [
    "",
    " ",
    "\x00",
    "Sam\x00Reader",
    "\u0301",  # a lone combining accent
    "e\u0301\u0302\u0303\u0304" * 40,  # "zalgo" stacks of combining marks
    "\u202etxt.exe",  # right-to-left override
    "\u200b\u200d\ufeff",  # zero-width characters
    "😀",
    "👨‍👩‍👧‍👦" * 10,
    "\U0010ffff",
    "\r\n\r\n",
    "\t\x0b\x0c\x1b[31m",
    "İ" * 60,  # lowercases to two characters each
    "ＦＵＬＬ ｗｉｄｔｈ",
    "<script>alert('xss')</script>",
    "<img src=x onerror=alert('xss')>",
    "'; DROP TABLE comments_comment; --",
    "{{ 7|add:7 }}{% debug %}",
    "%00%0d%0a",
    "\r\n--" + BOUNDARY + "--\r\n",  # the test client's own multipart boundary
    "a@b",
    "sam@example.org",
    "SAM@EXAMPLE.ORG",
    "sam@[127.0.0.1]",
    "user@xn--80ak6aa92e.com",
    "üñí@exämple.org",
    "a" * 64 + "@" + "b" * 185 + ".org",  # 254 characters: the longest valid email
    "İ" * 200 + "@example.org",  # valid before lowercasing, too long after
    "x" * 5000,
    "x" * 5001,
    "x" * 100_000,
    "😀" * 100_000,
    "http://a.example http://b.example http://c.example www.d.example",
]
