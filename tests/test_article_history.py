"""Revision history: every admin save is a version of the article and its side effects;
editors compare two and restore any earlier one."""

import pytest
from django.test import Client
from reversion.models import Version

from articles.models import Article
from tests.factories import ArticleFactory, admin_article_form_data

pytestmark = pytest.mark.django_db


def change(client, article, **overrides):
    response = client.post(
        f"/admin/articles/article/{article.pk}/change/", admin_article_form_data(article, **overrides)
    )
    assert response.status_code == 302, response.content.decode()[:3000]


@pytest.fixture
def edited_article(editor_client):
    """An article saved twice in the admin: first "First title" with "Redness", then renamed."""
    editor_client.post("/admin/articles/article/add/", admin_article_form_data(title="First title"))
    article = Article.objects.get(slug="healing-after-smp")
    change(editor_client, article, title="Second title", **{"side_effects-0-DELETE": "on"})
    return article


def test_each_admin_save_records_a_version(edited_article):
    versions = Version.objects.get_for_object(edited_article)

    assert versions.count() == 2
    assert {version.field_dict["title"] for version in versions} == {"First title", "Second title"}


def test_history_page_lists_versions_with_compare(editor_client, edited_article):
    html = editor_client.get(f"/admin/articles/article/{edited_article.pk}/history/").content.decode()

    assert "compare" in html.lower()
    assert html.count('name="version_id1"') == 2


def test_compare_view_shows_what_changed(editor_client, edited_article):
    older, newer = sorted(Version.objects.get_for_object(edited_article), key=lambda version: version.pk)

    response = editor_client.get(
        f"/admin/articles/article/{edited_article.pk}/history/compare/",
        {"version_id1": older.pk, "version_id2": newer.pk},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "First title" in html
    assert "Second title" in html


def test_restoring_an_earlier_version_brings_back_title_and_side_effects(editor_client, edited_article):
    edited_article.refresh_from_db()
    assert edited_article.title == "Second title"
    assert [effect.name for effect in edited_article.side_effects.all()] == ["Redness"]
    older = min(Version.objects.get_for_object(edited_article), key=lambda version: version.pk)

    form = editor_client.get(f"/admin/articles/article/{edited_article.pk}/history/{older.pk}/")
    assert form.status_code == 200
    assert 'value="First title"' in form.content.decode()
    # The revision form re-posts the old version's data, inlines included:
    editor_client.post(
        f"/admin/articles/article/{edited_article.pk}/history/{older.pk}/",
        _form_data_from_revision(edited_article, older),
    )

    edited_article.refresh_from_db()
    assert edited_article.title == "First title"
    assert sorted(effect.name for effect in edited_article.side_effects.all()) == ["Itchy scalp", "Redness"]
    assert "Redness" in edited_article.search_document
    page = Client().get(edited_article.get_absolute_url()).content.decode()
    assert '<h2 id="itchy-scalp">Itchy scalp</h2>' in page


def _form_data_from_revision(article, version):
    """What the revision form posts: the old article fields and every side effect of that revision."""
    fields = version.field_dict
    effects = [v for v in version.revision.version_set.all() if v.content_type.model == "sideeffect"]
    data = admin_article_form_data(
        title=fields["title"],
        slug=fields["slug"],
        summary=fields["summary"],
        body=fields["body"],
        **{"side_effects-TOTAL_FORMS": str(len(effects)), "side_effects-INITIAL_FORMS": str(len(effects))},
    )
    for index, effect_version in enumerate(sorted(effects, key=lambda v: v.field_dict["order"])):
        effect = effect_version.field_dict
        prefix = f"side_effects-{index}-"
        data.update(
            {
                f"{prefix}id": str(effect["id"]),
                f"{prefix}article": str(article.pk),
                f"{prefix}name": effect["name"],
                f"{prefix}order": str(effect["order"]),
                f"{prefix}frequency": effect["frequency"],
                f"{prefix}duration": effect["duration"],
                f"{prefix}description": effect["description"],
                f"{prefix}cause": effect["cause"],
                f"{prefix}advice": effect["advice"],
            }
        )
    return data


def test_moderator_cannot_restore_a_version(moderator_client, edited_article):
    older = min(Version.objects.get_for_object(edited_article), key=lambda version: version.pk)

    response = moderator_client.post(f"/admin/articles/article/{edited_article.pk}/history/{older.pk}/", {})

    assert response.status_code == 403
    edited_article.refresh_from_db()
    assert edited_article.title == "Second title"


def test_seeded_and_factory_articles_work_without_history(editor_client):
    article = ArticleFactory()

    assert editor_client.get(f"/admin/articles/article/{article.pk}/history/").status_code == 200
