"""Editors and moderators in the Django admin, through its real forms."""

import pytest
from django.contrib.auth.models import Group

from articles.models import Article
from tests.factories import ArticleFactory, admin_article_form_data
from tests.queries import count_uncached_queries

pytestmark = pytest.mark.django_db


def test_roles_exist_with_their_permissions():
    editors = set(Group.objects.get(name="Editors").permissions.values_list("codename", flat=True))
    moderators = set(Group.objects.get(name="Moderators").permissions.values_list("codename", flat=True))

    assert {"add_article", "change_article", "delete_article", "add_sideeffect"} <= editors
    assert {"change_commentthread", "change_comment", "view_comment"} <= moderators
    assert "view_article" in moderators
    assert not {"change_article", "delete_article", "add_article"} & moderators


def test_editor_adds_an_article_with_two_inline_side_effects(editor_client, editor):
    response = editor_client.post("/admin/articles/article/add/", admin_article_form_data())

    assert response.status_code == 302, response.content.decode()[:2000]
    article = Article.objects.get(slug="healing-after-smp")
    assert article.author == editor
    assert article.body_html.startswith('<h2 id="first-days">First days</h2>')
    assert [effect.name for effect in article.side_effects.all()] == ["Itchy scalp", "Redness"]
    assert (
        article.side_effects.get(name="Redness").description_html
        == "<p>The skin looks <strong>red</strong>.</p>"
    )


def test_article_saved_with_side_effects_in_the_admin_shows_them_all_to_readers(editor_client, client):
    editor_client.post("/admin/articles/article/add/", admin_article_form_data())

    html = client.get("/articles/healing-after-smp/").content.decode()

    # The stored page content is rendered after the last side effect is saved, not before.
    assert html.index('<h2 id="itchy-scalp">') < html.index('<h2 id="redness">')
    assert "Most common" in html
    article = Article.objects.get(slug="healing-after-smp")
    assert [effect["name"] for effect in article.side_effect_outline] == ["Itchy scalp", "Redness"]
    assert "Redness" in article.search_document


def test_editor_sees_the_new_article_on_the_home_page_once_published(editor_client, client):
    editor_client.post("/admin/articles/article/add/", admin_article_form_data())

    assert "Healing after SMP" in client.get("/").content.decode()


def test_invalid_admin_form_keeps_what_the_editor_typed(editor_client):
    response = editor_client.post(
        "/admin/articles/article/add/", admin_article_form_data(slug="not a slug!", summary="")
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required." in html
    assert "Some *redness* is normal." in html
    assert "Needles perforate the skin." in html
    assert not Article.objects.exists()


def test_editor_reorders_side_effects_with_the_order_field(editor_client):
    article = ArticleFactory(side_effects=0)
    article.side_effects.create(name="First", description="a", frequency="x", order=1)
    article.side_effects.create(name="Second", description="b", frequency="x", order=2)
    # The change form lists them in their order: row 0 is "First", row 1 "Second".
    data = admin_article_form_data(article, **{"side_effects-0-order": "5", "side_effects-1-order": "1"})

    response = editor_client.post(f"/admin/articles/article/{article.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert [effect.name for effect in article.side_effects.all()] == ["Second", "First"]


def test_editor_cannot_reach_user_management(editor_client):
    assert editor_client.get("/admin/auth/user/").status_code == 403
    assert editor_client.get("/admin/auth/group/").status_code == 403


def test_article_changelist_has_columns_filters_and_search(editor_client):
    ArticleFactory(title="Blue dots explained", side_effects=2)
    ArticleFactory(title="Unfinished thoughts", status=Article.Status.DRAFT)

    listing = editor_client.get("/admin/articles/article/")
    drafts = editor_client.get("/admin/articles/article/?status__exact=draft")
    found = editor_client.get("/admin/articles/article/?q=blue")

    html = listing.content.decode()
    assert "Visible to readers" in html
    assert "Side effects" in html
    assert "Blue dots explained" in html
    assert "Unfinished thoughts" in drafts.content.decode()
    assert "Blue dots explained" not in drafts.content.decode()
    assert "Blue dots explained" in found.content.decode()
    assert "Unfinished thoughts" not in found.content.decode()


def test_change_form_links_to_the_article_on_the_site(editor_client):
    draft = ArticleFactory(status=Article.Status.DRAFT)

    html = editor_client.get(f"/admin/articles/article/{draft.pk}/change/").content.decode()

    assert "View on site" in html


def test_article_changelist_query_count_does_not_grow_with_rows(editor_client, django_assert_max_num_queries):
    def queries():
        return count_uncached_queries(editor_client, "/admin/articles/article/")

    ArticleFactory.create_batch(2, side_effects=1)
    few = queries()
    ArticleFactory.create_batch(30, side_effects=3)

    with django_assert_max_num_queries(12):
        editor_client.get("/admin/articles/article/")
    assert queries() == few


def test_moderator_cannot_change_article_content(moderator_client):
    article = ArticleFactory(title="Original title")

    response = moderator_client.post(
        f"/admin/articles/article/{article.pk}/change/",
        admin_article_form_data(article, title="Vandalised"),
    )

    assert response.status_code == 403
    article.refresh_from_db()
    assert article.title == "Original title"


def test_moderator_cannot_add_articles(moderator_client):
    assert moderator_client.get("/admin/articles/article/add/").status_code == 403


def test_anonymous_visitor_is_sent_to_the_admin_login(client):
    response = client.get("/admin/articles/article/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
