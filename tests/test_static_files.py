"""Production static files: hashed by the manifest storage and served by whitenoise."""

import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def collected_static(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    return settings.STATIC_ROOT


def test_pages_link_hashed_bootstrap_and_site_css_served_by_whitenoise(client, collected_static, article):
    html = client.get(article.get_absolute_url()).content.decode()

    bootstrap = re.search(r'href="(/static/bootstrap/css/bootstrap\.min\.[0-9a-f]{12}\.css)"', html)
    site_css = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', html)
    assert bootstrap and site_css
    response = client.get(bootstrap.group(1))
    assert response.status_code == 200
    assert "max-age=315360000" in response["Cache-Control"]
    assert b"Bootstrap" in b"".join(response.streaming_content)[:500]
    assert client.get(site_css.group(1)).status_code == 200
