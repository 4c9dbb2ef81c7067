"""Links that never break: a renamed article's old address answers 301 to its new one (chains
collapsed, comment pages and anchors kept), a withdrawn article answers 410 Gone, and
editors add and remove redirects in the admin."""

import json
import shutil
import subprocess
from datetime import timedelta

import pytest
import reversion
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.utils import timezone
from reversion.models import Version

from articles.models import Article, MissingPath, Redirect
from tests.factories import ArticleFactory, UserFactory, admin_article_form_data, ensure_roles
from tests.test_html_validity import VNU_JAR, page_of

pytestmark = pytest.mark.django_db


def rename_in_admin(client, article, slug):
    response = client.post(
        f"/admin/articles/article/{article.pk}/change/", admin_article_form_data(article, slug=slug)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    article.refresh_from_db()


def assert_redirects_to(response, location):
    assert response.status_code == 301
    assert response["Location"] == location


def add_redirect(client, old_path, new_path="", note=""):
    return client.post(
        "/admin/articles/redirect/add/", {"old_path": old_path, "new_path": new_path, "note": note}
    )


def form_errors(response):
    assert response.status_code == 200, "the form was accepted"
    return [str(error) for errors in response.context["adminform"].form.errors.values() for error in errors]


def run_action(client, action, *articles):
    return client.post(
        "/admin/articles/article/",
        {"action": action, ACTION_CHECKBOX_NAME: [str(article.pk) for article in articles]},
        follow=True,
    )


# A slug change leaves a redirect ------------------------------------------------------


def test_renaming_a_published_article_in_the_admin_answers_301_at_its_old_address(editor_client):
    article = ArticleFactory(slug="old-name", side_effects=1)

    rename_in_admin(editor_client, article, "new-name")

    response = Client().get("/articles/old-name/")
    assert_redirects_to(response, "/articles/new-name/")
    assert Client().get("/articles/new-name/").status_code == 200


def test_a_redirect_may_be_kept_by_browsers_for_an_hour_only(editor_client):
    article = ArticleFactory(slug="old-name")
    rename_in_admin(editor_client, article, "new-name")

    response = Client().get("/articles/old-name/")

    assert response["Cache-Control"] == "max-age=3600"


def test_the_query_string_survives_so_comment_pages_keep_working(editor_client):
    article = ArticleFactory(slug="old-name")
    rename_in_admin(editor_client, article, "new-name")

    response = Client().get("/articles/old-name/?page=2")

    assert_redirects_to(response, "/articles/new-name/?page=2")


def test_the_redirect_names_no_fragment_so_browsers_keep_the_side_effect_anchor(editor_client):
    """A browser never sends #itchy-scalp; it keeps it when the Location has no fragment of its own."""
    article = ArticleFactory(slug="old-name")
    rename_in_admin(editor_client, article, "new-name")

    response = Client().get("/articles/old-name/")

    assert "#" not in response["Location"]


def test_a_path_under_an_old_address_follows_it():
    Redirect.objects.create(old_path="/articles/old-name/", new_path="/articles/new-name/")

    response = Client().get("/articles/old-name/print/?page=2")

    assert_redirects_to(response, "/articles/new-name/print/?page=2")


def test_a_comment_posted_to_an_old_address_stays_404(editor_client):
    article = ArticleFactory(slug="old-name")
    rename_in_admin(editor_client, article, "new-name")

    response = Client().post("/articles/old-name/comments/", {"author_name": "Sam", "body": "Hello"})

    assert response.status_code == 404


def test_a_chain_collapses_the_first_address_answers_straight_with_the_last(editor_client):
    article = ArticleFactory(slug="first-name")
    rename_in_admin(editor_client, article, "second-name")
    rename_in_admin(editor_client, article, "third-name")

    assert_redirects_to(Client().get("/articles/first-name/"), "/articles/third-name/")
    assert_redirects_to(Client().get("/articles/second-name/"), "/articles/third-name/")
    assert set(Redirect.objects.values_list("old_path", "new_path")) == {
        ("/articles/first-name/", "/articles/third-name/"),
        ("/articles/second-name/", "/articles/third-name/"),
    }


def test_a_new_article_taking_an_old_slug_wins_over_the_redirect(editor_client):
    renamed = ArticleFactory(slug="old-name")
    rename_in_admin(editor_client, renamed, "new-name")

    ArticleFactory(slug="old-name", title="A new article at the old address")

    response = Client().get("/articles/old-name/")
    assert response.status_code == 200
    assert "A new article at the old address" in response.content.decode()
    assert not Redirect.objects.filter(old_path="/articles/old-name/").exists()


def test_an_article_wins_over_a_redirect_even_when_one_is_left_at_its_address():
    ArticleFactory(slug="lives-here", title="The article that lives here")
    Redirect.objects.bulk_create([Redirect(old_path="/articles/lives-here/", new_path="/elsewhere/")])

    response = Client().get("/articles/lives-here/")

    assert response.status_code == 200
    assert "The article that lives here" in response.content.decode()


def test_renaming_back_to_an_old_slug_does_not_loop(editor_client):
    article = ArticleFactory(slug="first-name")
    rename_in_admin(editor_client, article, "second-name")

    rename_in_admin(editor_client, article, "first-name")

    assert Client().get("/articles/first-name/").status_code == 200
    assert_redirects_to(Client().get("/articles/second-name/"), "/articles/first-name/")
    assert list(Redirect.objects.values_list("old_path", "new_path")) == [
        ("/articles/second-name/", "/articles/first-name/")
    ]


def test_a_drafts_slug_change_leaves_no_redirect(editor_client):
    draft = ArticleFactory(slug="draft-name", status=Article.Status.DRAFT)

    rename_in_admin(editor_client, draft, "better-name")

    assert not Redirect.objects.exists()
    assert Client().get("/articles/draft-name/").status_code == 404


def test_a_scheduled_articles_slug_change_leaves_no_redirect(editor_client):
    """Readers never saw its address."""
    scheduled = ArticleFactory(slug="coming-soon", published_at=timezone.now() + timedelta(days=2))

    rename_in_admin(editor_client, scheduled, "coming-later")

    assert not Redirect.objects.exists()


def test_a_queryset_update_of_the_slug_leaves_a_redirect():
    article = ArticleFactory(slug="old-name")

    Article.objects.filter(pk=article.pk).update(slug="new-name")

    assert_redirects_to(Client().get("/articles/old-name/"), "/articles/new-name/")


def test_restoring_a_revision_with_an_earlier_slug_leaves_a_redirect_from_the_later_one():
    with reversion.create_revision():
        article = ArticleFactory(slug="first-name")
    with reversion.create_revision():
        article.slug = "second-name"
        article.save()
    first = min(Version.objects.get_for_object(article), key=lambda version: version.pk)

    first.revision.revert()  # a raw save, as the admin's "History" restore starts with

    assert Article.objects.get(pk=article.pk).slug == "first-name"
    assert Client().get("/articles/first-name/").status_code == 200
    assert_redirects_to(Client().get("/articles/second-name/"), "/articles/first-name/")


@pytest.mark.django_db(transaction=True)
def test_a_cached_page_at_an_old_address_answers_301_after_the_rename():
    ensure_roles()
    editor = Client()
    editor.force_login(UserFactory(username="cache-editor", is_staff=True, groups=["Editors"]))
    article = ArticleFactory(slug="old-name")
    assert Client().get("/articles/old-name/")["X-Page-Cache"] == "miss"
    assert Client().get("/articles/old-name/")["X-Page-Cache"] == "hit"

    rename_in_admin(editor, article, "new-name")

    assert_redirects_to(Client().get("/articles/old-name/"), "/articles/new-name/")


def test_an_old_address_answers_in_two_queries(editor_client, django_assert_max_num_queries):
    article = ArticleFactory(slug="old-name")
    rename_in_admin(editor_client, article, "new-name")
    reader = Client()

    with django_assert_max_num_queries(2):  # the article looked for, then the redirect
        assert reader.get("/articles/old-name/?page=2").status_code == 301


# Withdrawn on purpose: 410 Gone -------------------------------------------------------


def test_a_withdrawn_article_answers_410_with_a_page_that_says_so(editor_client):
    article = ArticleFactory(slug="withdrawn")

    response = run_action(editor_client, "withdraw_articles", article)

    assert "Withdrew 1 article" in response.content.decode()
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT
    gone = Client().get("/articles/withdrawn/")
    assert gone.status_code == 410
    assert "This page was removed" in gone.content.decode()
    assert '<link rel="canonical"' not in gone.content.decode()


def test_staff_still_preview_a_withdrawn_article(editor_client):
    article = ArticleFactory(slug="withdrawn", title="Withdrawn but kept")
    run_action(editor_client, "withdraw_articles", article)

    response = editor_client.get("/articles/withdrawn/")

    assert response.status_code == 200
    assert "Withdrawn but kept" in response.content.decode()


def test_deleting_a_withdrawn_article_keeps_its_410(editor_client):
    article = ArticleFactory(slug="withdrawn")
    run_action(editor_client, "withdraw_articles", article)

    editor_client.post(f"/admin/articles/article/{article.pk}/delete/", {"post": "yes"})

    assert not Article.objects.filter(pk=article.pk).exists()
    assert Client().get("/articles/withdrawn/").status_code == 410


def test_publishing_a_withdrawn_article_again_removes_its_410(editor_client):
    article = ArticleFactory(slug="withdrawn", title="Back again")
    run_action(editor_client, "withdraw_articles", article)

    run_action(editor_client, "publish_articles", article)

    response = Client().get("/articles/withdrawn/")
    assert response.status_code == 200
    assert "Back again" in response.content.decode()
    assert not Redirect.objects.exists()


def test_an_article_never_withdrawn_answers_404_once_deleted(editor_client):
    article = ArticleFactory(slug="deleted")

    editor_client.post(f"/admin/articles/article/{article.pk}/delete/", {"post": "yes"})

    assert Client().get("/articles/deleted/").status_code == 404


def test_moderators_are_not_offered_the_withdraw_action(moderator_client):
    ArticleFactory()

    response = moderator_client.get("/admin/articles/article/")

    assert "withdraw_articles" not in response.content.decode()


# Redirects by hand in the admin -------------------------------------------------------


def test_an_editor_adds_a_redirect_that_answers_301(editor_client):
    response = add_redirect(editor_client, "/old-guide/", "/articles/new-guide/", "The printed flyer's link")

    assert response.status_code == 302
    assert_redirects_to(Client().get("/old-guide/"), "/articles/new-guide/")


def test_an_editor_adds_a_410_by_leaving_the_new_address_empty(editor_client):
    add_redirect(editor_client, "/articles/retired/", "", "Retired on the doctor's advice")

    assert Client().get("/articles/retired/").status_code == 410
    assert "410 Gone" in editor_client.get("/admin/articles/redirect/").content.decode()


def test_a_full_url_target_is_sent_as_given(editor_client):
    add_redirect(editor_client, "/old-guide/", "https://clinic.example/guide")

    assert_redirects_to(Client().get("/old-guide/?page=2"), "https://clinic.example/guide")


def test_an_editor_removes_a_redirect_and_the_old_address_is_404_again(editor_client):
    redirect = Redirect.objects.create(old_path="/old-guide/", new_path="/articles/new-guide/")

    editor_client.post(f"/admin/articles/redirect/{redirect.pk}/delete/", {"post": "yes"})

    assert Client().get("/old-guide/").status_code == 404


def test_the_redirect_admin_refuses_a_path_without_a_leading_slash(editor_client):
    errors = form_errors(add_redirect(editor_client, "articles/old/", "/articles/new/"))

    assert any("starting with one “/”" in error for error in errors)
    assert not Redirect.objects.exists()


def test_the_redirect_admin_refuses_a_target_equal_to_the_old_address(editor_client):
    errors = form_errors(add_redirect(editor_client, "/articles/old/", "/articles/old/"))

    assert errors == ["The new address is the old address: it would never end."]


def test_the_redirect_admin_refuses_a_loop_through_existing_redirects(editor_client):
    Redirect.objects.create(old_path="/b/", new_path="/c/")
    Redirect.objects.create(old_path="/c/", new_path="/a/")  # /b/ now leads to /a/ straight

    errors = form_errors(add_redirect(editor_client, "/a/", "/b/"))

    assert any("This would loop" in error for error in errors)
    assert not Redirect.objects.filter(old_path="/a/").exists()


def test_the_redirect_admin_refuses_an_address_where_a_published_article_lives(editor_client):
    ArticleFactory(slug="lives-here", title="Alive and well")

    errors = form_errors(add_redirect(editor_client, "/articles/lives-here/", "/elsewhere/"))

    assert errors == [
        "The published article “Alive and well” lives at this address: readers get it, so this redirect "
        "would never answer. Change that article's slug (or withdraw it) first."
    ]


def test_a_redirect_to_an_address_that_already_redirects_is_saved_to_the_end(editor_client):
    Redirect.objects.create(old_path="/b/", new_path="/c/")

    response = add_redirect(editor_client, "/a/", "/b/")

    assert Redirect.objects.get(old_path="/a/").new_path == "/c/"
    assert "/b/ already leads to /c/" in editor_client.get("/admin/articles/redirect/").content.decode()
    assert response.status_code == 302


def test_a_redirect_from_an_address_others_lead_to_updates_them(editor_client):
    Redirect.objects.create(old_path="/a/", new_path="/b/#redness")

    add_redirect(editor_client, "/b/", "/c/")

    assert Redirect.objects.get(old_path="/a/").new_path == "/c/#redness"
    assert_redirects_to(Client().get("/a/"), "/c/#redness")


def test_the_redirect_list_shows_old_and_new_addresses_and_notes(editor_client):
    Redirect.objects.create(old_path="/old-guide/", new_path="/articles/new-guide/", note="From the flyer")

    html = editor_client.get("/admin/articles/redirect/?q=flyer").content.decode()

    assert "/old-guide/" in html
    assert "/articles/new-guide/" in html
    assert "From the flyer" in html


# Valid HTML -------------------------------------------------------------------------


def test_the_410_page_and_the_redirect_admin_pages_are_valid_html(editor_client, tmp_path):
    assert shutil.which("java"), "the Nu Html Checker needs Java"
    assert VNU_JAR.exists(), "vnu-jar is missing: `make test` installs it (npm ci)"
    Redirect.objects.create(old_path="/articles/withdrawn/", new_path="", note="Withdrawn")
    Redirect.objects.create(old_path="/old-guide/", new_path="/articles/new-guide/")
    now = timezone.now()
    MissingPath.objects.create(path="/articles/mistyped/", hits=4, first_seen=now, last_seen=now)
    answers = {
        "410 Gone": (410, Client().get("/articles/withdrawn/")),
        "redirect list": (200, editor_client.get("/admin/articles/redirect/")),
        "redirect add": (200, editor_client.get("/admin/articles/redirect/add/?old_path=%2Fold%2F")),
        "redirect refused": (200, add_redirect(editor_client, "no-slash", "/old-guide/")),
        "404 report": (200, editor_client.get("/admin/articles/missingpath/")),
    }
    files = {}
    for name, (status, response) in answers.items():
        assert response.status_code == status, name
        path = tmp_path / f"{len(files):02d}.html"
        path.write_bytes(response.content)
        files[path.name] = name

    checked = subprocess.run(
        [
            "java",
            "-jar",
            str(VNU_JAR),
            "--errors-only",
            "--format",
            "json",
            *(str(p) for p in tmp_path.iterdir()),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )

    report = json.loads(checked.stderr.strip() or checked.stdout.strip())
    errors = [
        f"{page_of(message, files)}: {message.get('message')} ({message.get('extract', '')!r})"
        for message in report["messages"]
        if message.get("type") in ("error", "non-document-error")
    ]
    assert errors == []


def test_a_path_under_an_old_address_never_leads_to_another_site():
    Redirect.objects.create(old_path="/articles/old-name/", new_path="/")

    for path in ("/articles/old-name//evil.example/", "/articles/old-name/%5Cevil.example/"):
        response = Client().get(path)
        assert response.status_code == 301
        assert response["Location"] == "/evil.example/"
