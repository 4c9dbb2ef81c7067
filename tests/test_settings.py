"""Settings come from the environment; production settings pass Django's deploy checks.

Settings are read once per process, so these tests run manage.py in a subprocess
with the environment under test.
"""

import json

import pytest

from tests.commands import manage

PRODUCTION_ENV = {
    "DJANGO_HTTPS": "1",
    "DJANGO_SECRET_KEY": "k7#Qp2!vZr9@Lm4$Xw8^Tb6&Hn3*Jc5(Gd1)Fs0_Ye-Ua+Ri=Oe" * 2,
    "DJANGO_ALLOWED_HOSTS": "smp.example.org",
}


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", **{**PRODUCTION_ENV, "DJANGO_SECRET_KEY": ""})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required in production" in result.stderr


def test_a_malformed_boolean_setting_is_a_clear_error():
    result = manage("check", DJANGO_DEBUG="maybe")

    assert result.returncode != 0
    assert "DJANGO_DEBUG must be one of" in result.stderr


def test_an_unknown_cache_url_is_a_clear_error():
    result = manage("check", CACHE_URL="memcached://127.0.0.1:11211")

    assert result.returncode != 0
    assert "CACHE_URL/REDIS_URL must start with redis://" in result.stderr


def test_defaults_are_production_like_for_local_http():
    code = (
        "import json; from django.conf import settings as s; print(json.dumps([s.DEBUG, s.ALLOWED_HOSTS, "
        "getattr(s, 'SECURE_SSL_REDIRECT', False), s.SESSION_COOKIE_SECURE]))"
    )
    result = manage("shell", "-c", code)
    assert result.returncode == 0, result.stderr
    debug, allowed_hosts, ssl_redirect, secure_session_cookie = json.loads(
        result.stdout.strip().splitlines()[-1]
    )

    assert debug is False
    assert {"localhost", "127.0.0.1"} <= set(allowed_hosts)
    assert not ssl_redirect
    assert not secure_session_cookie


@pytest.mark.parametrize(
    ("url", "engine"),
    [
        ("sqlite:///tmp/other.sqlite3", "django.db.backends.sqlite3"),
        ("postgres://postgres@127.0.0.1:5432/smpinfo", "django.db.backends.postgresql"),
    ],
)
def test_database_url_selects_the_database(url, engine):
    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])",
        DATABASE_URL=url,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == engine
