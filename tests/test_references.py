"""References and citations: `[@key]` in an article's text links to its numbered entry under
"References", the entry links back, and the admin refuses what the page could not show.

Pages are read as a reader's browser gets them (the client), the admin through its real change
form; the tests of cached pages use a transactional database, since pages are retired when a
change commits.
"""

import json
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils.html import escape
from hypothesis import example, given
from hypothesis import strategies as st

from articles.models import ArticleAuthor, Reference, refresh_once
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    ReferenceFactory,
    ReviewFactory,
    SideEffectFactory,
    admin_article_form_data,
    inline_form_data,
    reference_form_row,
)
from tests.queries import count_uncached_queries
from tests.strategies import NASTY_STRINGS, fuzz_settings

pytestmark = pytest.mark.django_db


# Helpers -------------------------------------------------------------------------------------------


class Elements(HTMLParser):
    """The start tags of a page, in order, as a browser's parser sees them: (tag, {attr: value}),
    and the links opened inside another link (`nested_links`)."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.nested_links = []
        self._open_links = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        self.tags.append((tag, attrs))
        if tag == "a":
            if self._open_links:
                self.nested_links.append(attrs)
            self._open_links += 1

    def handle_endtag(self, tag):
        if tag == "a":
            self._open_links = max(0, self._open_links - 1)

    def with_id(self, element_id):
        return [(tag, attrs) for tag, attrs in self.tags if attrs.get("id") == element_id]

    def hrefs(self, prefix):
        return [
            attrs["href"]
            for tag, attrs in self.tags
            if tag == "a" and attrs.get("href", "").startswith(prefix)
        ]


def page_of(client, article):
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def squash(html):
    return re.sub(r"\s+", " ", html).strip()


def entries_of(html):
    """{number: inner HTML, whitespace squashed} of the entries of the references list, in order."""
    section = re.search(r'<section id="references".*?</section>', html, re.DOTALL)
    assert section, "no references section on the page"
    return {
        int(number): squash(inner)
        for number, inner in re.findall(r'<li id="ref-(\d+)">(.*?)</li>', section.group(0), re.DOTALL)
    }


def body_of(html):
    return re.search(r'<div class="article-body">(.*?)</div>', html, re.DOTALL).group(1)


def side_effect_section(html, effect):
    return re.search(
        rf'<section class="side-effect" aria-labelledby="{effect.anchor}">(.*?)</section>', html, re.DOTALL
    ).group(1)


def citation_links(html):
    """The references the citations of `html` link to, in order: ["#ref-1", "#ref-2", ...]."""
    return re.findall(r'<sup class="citation" id="cite-\d+-\d+"><a href="(#ref-\d+)"', html)


def json_ld(html):
    return json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL).group(1)
    )


def change_url(article):
    return f"/admin/articles/article/{article.pk}/change/"


def post_article(browser, article, references, follow=False, **overrides):
    """Submit the article's change form with these rows (reference_form_row dicts) as its references."""
    data = admin_article_form_data(article, **overrides)
    data.update(inline_form_data("references", references))
    return browser.post(change_url(article), data, follow=follow)


def cited_article(body, *keys, **article_fields):
    """A published article with `body` and one reference for each key, in order (`article_fields`
    go to ArticleFactory: no side effects unless asked)."""
    article = ArticleFactory(body=body, **article_fields)
    for order, key in enumerate(keys):
        ReferenceFactory(article=article, key=key, title=f"Source {key}", order=order)
    return article


# Numbering and links on the page ---------------------------------------------------------------------


def test_citations_are_numbered_in_order_of_first_citation_body_first_then_side_effects(client):
    article = cited_article("First [@beta], then [@alpha].", "alpha", "beta", "gamma", "delta")
    redness = SideEffectFactory(article=article, name="Redness", order=1, description="See [@gamma].")
    itching = SideEffectFactory(
        article=article, name="Itching", order=2, description="[@alpha] and [@delta]."
    )

    html = page_of(client, article)

    assert citation_links(body_of(html)) == ["#ref-1", "#ref-2"]
    assert citation_links(side_effect_section(html, redness)) == ["#ref-3"]
    assert citation_links(side_effect_section(html, itching)) == ["#ref-2", "#ref-4"]
    entries = entries_of(html)
    assert list(entries) == [1, 2, 3, 4]
    assert [title for number in entries for title in re.findall(r"Source \w+", entries[number])] == [
        "Source beta",
        "Source alpha",
        "Source gamma",
        "Source delta",
    ]


def test_side_effects_cite_in_their_order_not_in_the_order_they_were_written(client):
    article = cited_article("No citation in the body.", "early", "late")
    SideEffectFactory(article=article, name="Shown second", order=2, description="[@early]")
    SideEffectFactory(article=article, name="Shown first", order=1, description="[@late]")

    entries = entries_of(page_of(client, article))

    assert "Source late" in entries[1]
    assert "Source early" in entries[2]


def test_a_reference_cited_twice_keeps_its_number_and_links_back_to_both_places(client):
    article = cited_article(
        "Once [@smith2020], another [@jones2019], again [@smith2020].", "smith2020", "jones2019"
    )

    html = page_of(client, article)

    assert citation_links(body_of(html)) == ["#ref-1", "#ref-2", "#ref-1"]
    elements = Elements(html)
    for citation in ["cite-1-1", "cite-1-2", "cite-2-1"]:
        assert [tag for tag, attrs in elements.with_id(citation)] == ["sup"], citation
    entries = entries_of(html)
    assert re.findall(r'href="(#cite-[\d-]+)"', entries[1]) == ["#cite-1-1", "#cite-1-2"]
    assert re.findall(r'href="(#cite-[\d-]+)"', entries[2]) == ["#cite-2-1"]


def test_every_citation_link_has_its_entry_on_the_page(client):
    article = cited_article("[@a] [@b] [@a]", "a", "b")
    SideEffectFactory(article=article, description="[@b] [@a]")

    elements = Elements(page_of(client, article))

    links = elements.hrefs("#ref-")
    assert len(links) == 5
    for href in links:
        assert [tag for tag, attrs in elements.with_id(href[1:])] == ["li"], href


def test_uncited_references_are_listed_after_the_cited_ones_without_a_back_link(client):
    article = ArticleFactory(body="Only [@cited] is cited.")
    ReferenceFactory(article=article, key="first_uncited", title="Uncited one", order=0)
    ReferenceFactory(article=article, key="cited", title="The cited one", order=1)
    ReferenceFactory(article=article, key="second_uncited", title="Uncited two", order=2)

    entries = entries_of(page_of(client, article))

    assert list(entries) == [1, 2, 3]
    assert "The cited one" in entries[1] and "citation-back" in entries[1]
    assert "Uncited one" in entries[2] and "citation-back" not in entries[2]
    assert "Uncited two" in entries[3] and "citation-back" not in entries[3]


def test_an_unknown_key_saved_outside_the_admin_is_shown_as_written_not_as_a_broken_link(client):
    article = cited_article("Known [@known], unknown [@nobody].", "known")

    html = page_of(client, article)

    assert citation_links(body_of(html)) == ["#ref-1"]
    assert "[@nobody]" in body_of(html)


@pytest.mark.parametrize(
    "body",
    [
        "Write `[@smith2020]` to cite it.",
        "Write it so:\n\n```\n[@smith2020]\n```\n",
        "Write it so:\n\n~~~\n[@smith2020]\n~~~\n",
        "Write it so:\n\n    [@smith2020]\n",
    ],
    ids=["inline code", "backtick fence", "tilde fence", "indented code"],
)
def test_a_citation_inside_code_is_shown_as_written(client, body):
    article = cited_article(body, "smith2020")

    html = page_of(client, article)

    assert re.search(r"<code>[^<]*\[@smith2020\]", body_of(html))
    assert 'class="citation"' not in html
    assert "citation-back" not in entries_of(html)[1]


def test_a_references_link_joins_the_table_of_contents(client):
    article = cited_article("## Healing\n\nSee [@a].", "a")

    html = page_of(client, article)

    assert '<li><a href="#references">References</a></li>' in html
    assert '<section id="references"' in html


def test_an_article_without_references_has_no_references_section(client):
    html = page_of(client, ArticleFactory(body="## Healing\n\nNo sources."))

    assert 'id="references"' not in html
    assert 'href="#references"' not in html


# What an entry shows ----------------------------------------------------------------------------------


def test_an_entry_shows_authors_title_journal_year_doi_pubmed_accessed_date_and_side_effect(client):
    article = ArticleFactory(body="See [@smith2020].")
    redness = SideEffectFactory(article=article, name="Redness")
    ReferenceFactory(
        article=article,
        key="smith2020",
        authors="Smith J, Jones A",
        title="Pigment stability in the scalp",
        publisher="Journal of Cosmetic Dermatology",
        year=2020,
        url="https://example.org/pigment",
        doi="10.1000/xyz123",
        pmid="12345678",
        accessed_on=date(2024, 3, 5),
        side_effect=redness,
    )

    entry = entries_of(page_of(client, article))[1]

    assert entry.startswith("Smith J, Jones A. ")
    assert '<a href="https://example.org/pigment">Pigment stability in the scalp</a>.' in entry
    assert "<i>Journal of Cosmetic Dermatology</i>, 2020." in entry
    assert 'doi:<a href="https://doi.org/10.1000/xyz123">10.1000/xyz123</a>.' in entry
    assert 'PMID: <a href="https://pubmed.ncbi.nlm.nih.gov/12345678/">12345678</a>.' in entry
    assert 'Accessed <time datetime="2024-03-05">5 March 2024</time>.' in entry
    assert 'About: <a href="#redness">Redness</a>.' in entry


def test_an_entry_with_only_a_title_shows_no_empty_parts(client):
    article = ArticleFactory(body="See [@bare].")
    ReferenceFactory(
        article=article, key="bare", title="A bare title", authors="", publisher="", year=None, url=""
    )

    entry = entries_of(page_of(client, article))[1]

    assert entry.startswith("A bare title.")
    assert "doi:" not in entry
    assert "PMID" not in entry
    assert "Accessed" not in entry
    assert "<i>" not in entry
    assert re.findall(r'<a [^>]*href="([^"]+)"', entry) == ["#cite-1-1"]


def test_reference_fields_are_shown_escaped(client):
    article = ArticleFactory(body="See [@x].")
    ReferenceFactory(
        article=article,
        key="x",
        title="<script>alert(1)</script>",
        authors="<b>Mallory</b>",
        publisher="A & B",
    )

    html = page_of(client, article)

    assert "<script>alert(1)</script>" not in html
    entry = entries_of(html)[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in entry
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in entry
    assert "<i>A &amp; B</i>" in entry


# Structured data --------------------------------------------------------------------------------------


def test_json_ld_cites_the_references_as_creative_works_with_doi_and_pubmed_as_same_as(client):
    article = ArticleFactory(body="First [@second], then [@first].")
    ReferenceFactory(
        article=article,
        key="first",
        title="Plain source",
        authors="",
        publisher="",
        year=None,
        url="",
        order=0,
    )
    ReferenceFactory(
        article=article,
        key="second",
        title="Full source",
        authors="Smith J",
        publisher="Journal of Examples",
        year=2021,
        url="https://example.org/full",
        doi="10.1000/abc",
        pmid="7654321",
        order=1,
    )

    data = json_ld(page_of(client, article))

    assert data["citation"] == [
        {
            "@type": "CreativeWork",
            "name": "Full source",
            "author": "Smith J",
            "publisher": "Journal of Examples",
            "datePublished": "2021",
            "url": "https://example.org/full",
            "sameAs": ["https://doi.org/10.1000/abc", "https://pubmed.ncbi.nlm.nih.gov/7654321/"],
        },
        {"@type": "CreativeWork", "name": "Plain source"},
    ]


def test_json_ld_of_an_article_without_references_has_no_citation(client):
    assert "citation" not in json_ld(page_of(client, ArticleFactory()))


# The admin: references and their citations ----------------------------------------------------------


def test_references_added_in_the_admin_are_numbered_on_the_page(editor_client, client, article):
    response = post_article(
        editor_client,
        article,
        [
            reference_form_row(key="alpha", title="Alpha study", order="1"),
            reference_form_row(key="beta", title="Beta study", order="2", doi="10.1000/beta"),
        ],
        body="Cites [@beta] then [@alpha].",
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(article.references.values_list("key", flat=True)) == ["alpha", "beta"]
    entries = entries_of(page_of(client, article))
    assert "Beta study" in entries[1] and "https://doi.org/10.1000/beta" in entries[1]
    assert "Alpha study" in entries[2]


def test_admin_refuses_a_body_citing_an_unknown_key_and_keeps_what_was_typed(editor_client, article):
    body_before = article.body

    response = post_article(
        editor_client,
        article,
        [reference_form_row(key="smith2020", title="Typed reference title")],
        body="Healing takes weeks [@smith2020] or months [@nosuch].",
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert (
        escape("The article's body cites [@nosuch], but no reference of this article has the key “nosuch”.")
        in html
    )
    assert "Healing takes weeks [@smith2020] or months [@nosuch]." in html
    assert 'value="Typed reference title"' in html
    article.refresh_from_db()
    assert article.body == body_before
    assert not Reference.objects.exists()


def test_admin_refuses_a_side_effect_citing_an_unknown_key_and_names_the_side_effect(editor_client, article):
    effect = article.side_effects.all()[1]
    description_before = effect.description

    response = post_article(
        editor_client,
        article,
        [reference_form_row(key="smith2020", title="Typed reference title")],
        body="Cites [@smith2020].",
        **{"side_effects-1-description": "It itches [@ghost2021]."},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert (
        escape(
            f"The side effect “{effect.name}” cites [@ghost2021], "
            "but no reference of this article has the key “ghost2021”."
        )
        in html
    )
    assert "It itches [@ghost2021]." in html
    assert "Cites [@smith2020]." in html
    effect.refresh_from_db()
    assert effect.description == description_before
    assert not Reference.objects.exists()


def test_admin_refuses_two_references_with_the_same_key(editor_client, article):
    response = post_article(
        editor_client,
        article,
        [
            reference_form_row(key="twin", title="First twin"),
            reference_form_row(key="twin", title="Second twin"),
        ],
        body="Cites [@twin].",
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Two references have the same key: each reference of an article needs its own key." in html
    assert 'value="First twin"' in html and 'value="Second twin"' in html
    assert not Reference.objects.exists()


def test_admin_refuses_a_new_reference_reusing_the_key_of_a_stored_one(editor_client, article):
    stored = ReferenceFactory(article=article, key="twin", title="Stored twin")

    response = post_article(
        editor_client,
        article,
        [reference_form_row(stored), reference_form_row(key="twin", title="New twin")],
        body="Cites [@twin].",
    )

    assert response.status_code == 200
    assert "Two references have the same key" in response.content.decode()
    assert list(Reference.objects.values_list("title", flat=True)) == ["Stored twin"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("doi", "10.12/too-short-registrant", "A DOI starts with “10.”"),
        ("doi", "not a doi", "A DOI starts with “10.”"),
        ("doi", "10.1000/", "A DOI starts with “10.”"),
        ("pmid", "PMID123", "A PubMed ID (PMID) is a number of up to 8 digits"),
        ("pmid", "0123", "A PubMed ID (PMID) is a number of up to 8 digits"),
        ("url", "ftp://example.org/study.pdf", "Enter a valid URL."),
        ("url", "javascript:alert(1)", "Enter a valid URL."),
    ],
)
def test_admin_refuses_a_malformed_identifier_or_address_and_keeps_what_was_typed(
    editor_client, article, field, value, message
):
    response = post_article(
        editor_client,
        article,
        [reference_form_row(key="smith2020", title="Typed reference title", **{field: value})],
        body="Typed body [@smith2020].",
    )

    assert response.status_code == 200
    html = response.content.decode()
    errors = re.search(
        rf'<ul class="errorlist" id="id_references-0-{field}_error">(.*?)</ul>', html, re.DOTALL
    )
    assert errors, f"no error on the {field} field"
    assert escape(message) in errors.group(1)
    assert f'value="{escape(value)}"' in html
    assert "Typed body [@smith2020]." in html
    assert not Reference.objects.exists()
    article.refresh_from_db()
    assert "Typed body" not in article.body


@pytest.mark.parametrize(
    "pasted",
    [
        "10.1000/xyz",
        "https://doi.org/10.1000/xyz",
        "http://dx.doi.org/10.1000/xyz",
        "doi:10.1000/xyz",
        "DOI: 10.1000/xyz",
    ],
)
def test_admin_stores_a_pasted_doi_link_or_doi_prefix_as_the_bare_doi(editor_client, client, article, pasted):
    response = post_article(
        editor_client,
        article,
        [reference_form_row(key="smith2020", title="T", doi=pasted)],
        body="[@smith2020]",
    )

    assert response.status_code == 302, re.findall(
        r'class="errorlist"[^>]*>(.*?)</ul>', response.content.decode()
    )
    assert Reference.objects.get().doi == "10.1000/xyz"
    assert (
        'doi:<a href="https://doi.org/10.1000/xyz">10.1000/xyz</a>' in entries_of(page_of(client, article))[1]
    )


def test_a_reference_no_text_cites_is_saved_with_a_warning_on_the_next_page(editor_client, article):
    response = post_article(
        editor_client,
        article,
        [
            reference_form_row(key="cited", title="Cited source"),
            reference_form_row(key="lonely", title="Lonely source"),
        ],
        body="Cites [@cited] only.",
        follow=True,
    )

    assert response.redirect_chain and response.redirect_chain[-1][1] == 302
    html = response.content.decode()
    assert "The reference “lonely” is not cited in the text: cite it as [@lonely]." in html
    assert "The reference “cited” is not cited" not in html
    assert sorted(article.references.values_list("key", flat=True)) == ["cited", "lonely"]


def test_a_reference_cited_only_by_a_side_effect_gets_no_warning(editor_client, article):
    response = post_article(
        editor_client,
        article,
        [reference_form_row(key="effect_source", title="Side effect source")],
        body="No citation in the body.",
        follow=True,
        **{"side_effects-2-description": "It fades [@effect_source]."},
    )

    assert response.redirect_chain
    assert "is not cited in the text" not in response.content.decode()
    assert article.references.get().key == "effect_source"


@pytest.mark.parametrize(
    "body",
    [
        "Write `[@unknown]` to cite.",
        "Write ``[@unknown]`` to cite.",
        "Write it so:\n\n```\n[@unknown]\n```\n",
        "Write it so:\n\n~~~\n[@unknown]\n~~~\n",
        "Write it so:\n\n    [@unknown]\n",
    ],
    ids=["inline code", "double-backtick code", "backtick fence", "tilde fence", "indented code"],
)
def test_admin_accepts_an_unknown_key_written_inside_code(editor_client, article, body):
    response = post_article(editor_client, article, [], body=body)

    assert response.status_code == 302, re.findall(
        r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode()
    )
    article.refresh_from_db()
    assert article.body == body.strip()


def test_deleting_a_reference_in_the_admin_removes_it_from_the_page(editor_client, client, article):
    kept = ReferenceFactory(article=article, key="kept", title="Kept source")
    gone = ReferenceFactory(article=article, key="gone", title="Gone source")

    response = post_article(
        editor_client,
        article,
        [reference_form_row(kept), reference_form_row(gone, DELETE="on")],
        body="Cites [@kept].",
    )

    assert response.status_code == 302
    assert list(article.references.values_list("key", flat=True)) == ["kept"]
    html = page_of(client, article)
    assert "Kept source" in html and "Gone source" not in html


def test_admin_refuses_deleting_a_reference_the_body_still_cites(editor_client, article):
    cited = ReferenceFactory(article=article, key="cited", title="Still cited")
    article.body = "Cites [@cited]."
    article.save()

    response = post_article(editor_client, article, [reference_form_row(cited, DELETE="on")])

    assert response.status_code == 200
    assert "no reference of this article has the key “cited”" in response.content.decode()
    assert article.references.get() == cited


# The side effect a reference is about -----------------------------------------------------------------


def side_effect_choices(html, name):
    select = re.search(rf'<select name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.DOTALL)
    assert select, f"no select {name}"
    return [value for value in re.findall(r'<option value="([^"]*)"', select.group(1)) if value]


def test_a_reference_offers_only_its_own_articles_side_effects(editor_client, article):
    other = ArticleFactory(side_effects=2)
    ReferenceFactory(article=article, key="stored")

    html = editor_client.get(change_url(article)).content.decode()

    own = sorted(str(pk) for pk in article.side_effects.values_list("pk", flat=True))
    assert sorted(side_effect_choices(html, "references-0-side_effect")) == own
    assert sorted(side_effect_choices(html, "references-__prefix__-side_effect")) == own
    for pk in other.side_effects.values_list("pk", flat=True):
        assert f'<option value="{pk}"' not in html


def test_admin_refuses_a_reference_about_another_articles_side_effect(editor_client, article):
    foreign = SideEffectFactory(article=ArticleFactory())

    response = post_article(
        editor_client,
        article,
        [reference_form_row(key="smith2020", title="T", side_effect=str(foreign.pk))],
        body="[@smith2020]",
    )

    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert not Reference.objects.exists()


def test_a_reference_about_one_of_its_side_effects_is_saved(editor_client, article):
    effect = article.side_effects.all()[0]

    response = post_article(
        editor_client,
        article,
        [reference_form_row(key="smith2020", title="T", side_effect=str(effect.pk))],
        body="[@smith2020]",
    )

    assert response.status_code == 302
    assert Reference.objects.get().side_effect == effect


# An older client that knows nothing of references -----------------------------------------------------


def without_references_management_form(data):
    return {name: value for name, value in data.items() if not name.startswith("references-")}


def test_a_post_without_the_references_management_form_leaves_the_references_as_they_are(editor_client):
    article = cited_article("Cites [@kept].", "kept")
    stored = article.references.get()
    data = without_references_management_form(admin_article_form_data(article, body="New words, [@kept]."))

    response = editor_client.post(change_url(article), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    article.refresh_from_db()
    assert article.body == "New words, [@kept]."
    assert list(article.references.values_list("pk", "key", "title")) == [(stored.pk, "kept", "Source kept")]


def test_a_post_without_the_references_management_form_still_refuses_an_unknown_key(editor_client):
    article = cited_article("Cites [@kept].", "kept")
    data = without_references_management_form(admin_article_form_data(article, body="Cites [@missing]."))

    response = editor_client.post(change_url(article), data)

    assert response.status_code == 200
    assert "no reference of this article has the key “missing”" in response.content.decode()
    article.refresh_from_db()
    assert article.body == "Cites [@kept]."


# The page costs the same whatever it cites ------------------------------------------------------------


def test_article_page_query_count_does_not_grow_with_references_authors_and_reviews(
    client, django_assert_max_num_queries
):
    plain = ArticleFactory(body="No sources.")
    keys = [f"source{number}" for number in range(8)]
    rich = cited_article(" ".join(f"[@{key}]" for key in keys), *keys, side_effects=3)
    for order in range(3):
        ArticleAuthor.objects.create(article=rich, author=AuthorFactory(name=f"Byline {order}"), order=order)
    ReviewFactory(article=rich, reviewer=AuthorFactory(name="Dr Early", slug="dr-early"))
    ReviewFactory(article=rich, reviewer=AuthorFactory(name="Dr Late", slug="dr-late"))

    with django_assert_max_num_queries(5):
        response = client.get(rich.get_absolute_url())

    html = response.content.decode()
    assert len(entries_of(html)) == 8
    assert all(f"Byline {order}" in html for order in range(3))
    assert "Medically reviewed by" in html
    assert count_uncached_queries(client, rich.get_absolute_url()) == count_uncached_queries(
        client, plain.get_absolute_url()
    )


# Cached pages are fresh after an ORM change -----------------------------------------------------------


def cached_page_of(article):
    """The article's page as a new anonymous reader gets it, after making sure it is cached."""
    page_of(Client(), article)
    response = Client().get(article.get_absolute_url())
    assert response["X-Page-Cache"] == "hit"
    return response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_reference_changed_through_the_orm_is_fresh_on_the_cached_page():
    article = cited_article("See [@smith2020].", "smith2020")
    assert "Source smith2020" in cached_page_of(article)
    reference = article.references.get()

    reference.title = "Corrected title"
    reference.save()

    html = page_of(Client(), article)
    assert "Corrected title" in entries_of(html)[1]
    assert "Source smith2020" not in html


@pytest.mark.django_db(transaction=True)
def test_a_reference_created_through_the_orm_is_fresh_on_the_cached_page():
    article = cited_article("See [@late].")
    html = cached_page_of(article)
    assert 'id="references"' not in html and "[@late]" in html

    ReferenceFactory(article=article, key="late", title="Added later")

    html = page_of(Client(), article)
    assert "Added later" in entries_of(html)[1]
    assert citation_links(body_of(html)) == ["#ref-1"]


@pytest.mark.django_db(transaction=True)
def test_a_reference_deleted_through_the_orm_is_gone_from_the_cached_page():
    article = cited_article("See [@kept] and [@gone].", "kept", "gone")
    assert "Source gone" in cached_page_of(article)

    article.references.get(key="gone").delete()

    html = page_of(Client(), article)
    assert "Source gone" not in html
    assert list(entries_of(html)) == [1]
    assert "[@gone]" in body_of(html)


# Citations inside links and attributes, and keys Markdown rewrites ------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        'See [the study](https://example.org/study "as in [@smith2020]").',
        "![Scalp after three sessions [@smith2020]](https://example.org/scalp.png)",
        '<abbr title="Scalp micropigmentation [@smith2020]">SMP</abbr> is a tattoo.',
        "See [the study [@smith2020]](https://example.org/study).",
    ],
    ids=["link title", "image alt text", "abbr title", "link text"],
)
def test_a_citation_inside_a_link_or_an_attribute_keeps_the_page_markup_valid(client, body):
    article = cited_article(body, "smith2020")

    elements = Elements(body_of(page_of(client, article)))

    for tag, attrs in elements.tags:
        assert not [value for value in attrs.values() if "<" in value], (tag, attrs)
        if attrs.get("id", "").startswith("cite-"):
            assert tag == "sup", (tag, attrs)
    assert not elements.nested_links


@pytest.mark.parametrize("key", ["smith--2020", "smith...2020", "smith---2020", "-smith", "smith."])
def test_admin_refuses_a_key_that_typography_would_rewrite_and_says_how_keys_are_made(
    editor_client, article, key
):
    response = post_article(
        editor_client, article, [reference_form_row(key=key, title="Typed title")], body=f"Typed [@{key}]."
    )

    assert response.status_code == 200
    html = response.content.decode()
    errors = re.search(r'<ul class="errorlist" id="id_references-0-key_error">(.*?)</ul>', html, re.DOTALL)
    assert errors, "no error on the key field"
    assert "joined by single" in errors.group(1)
    assert f'value="{escape(key)}"' in html
    assert not Reference.objects.exists()


# Any text around citations ----------------------------------------------------------------------------

KEYS = ["smith2020", "a.b:c-d_e", "x1"]
MARKDOWN_BITS = [
    "**", "*", "_", "`", "``", "\n```\n", "\n~~~\n", "\n\n", "\n    ", "\n# ", "\n## ", "\n- ",
    "\n1. ", "\n> ", "[", "]", "(", ")", "](https://example.org)", '[a link](https://example.org "', '")',
    "![", "|", "\n---\n", "\\", "@", "[@", "<", ">", "&", '"', "'", "<script>alert(1)</script>",
    "<a href='javascript:alert(1)'>", "</a>", "<code>", "</code>", "<pre>", "</pre>", '<span id="ref-9">',
    "<sup>", "</sup>", "<!--", "-->", "&lt;script&gt;", "&#91;@x1]",
]  # fmt: skip
# Markdown and HTML that may hold a citation: "{}" is where the text inside goes.
WRAPPERS = [
    "**{}**", "*{}*", "`{}`", "``{}``", "[{}](https://example.org)", '[a link](https://example.org "{}")',
    "![{}](https://example.org/a.png)", '<abbr title="{}">SMP</abbr>', '<a href="https://example.org">{}</a>',
    "\n```\n{}\n```\n", "\n    {}\n", "\n## {}\n", "\n- {}\n", "\n> {}\n",
    "\n| {} | x |\n|---|---|\n| y | {} |\n",
]  # fmt: skip
citation = st.sampled_from([*KEYS, "nobody"]).map(lambda key: f"[@{key}]")
short_nasty = st.sampled_from([text for text in NASTY_STRINGS if len(text) <= 500])
leaf = st.one_of(citation, st.sampled_from(MARKDOWN_BITS), st.text(max_size=20), short_nasty)
fragment = st.recursive(
    leaf,
    lambda inner: st.builds(
        lambda wrapper, parts: wrapper.replace("{}", "".join(parts)),
        st.sampled_from(WRAPPERS),
        st.lists(inner, max_size=4),
    ),
    max_leaves=20,
)
# No NUL: the admin's forms refuse it, and PostgreSQL cannot store it.
markdown_text = st.lists(fragment, max_size=12).map(lambda parts: "".join(parts).replace("\x00", ""))


def test_any_text_around_citations_gives_a_page_without_scripts_whose_citations_all_have_targets(
    client, settings
):
    settings.PAGE_CACHE_SECONDS = 0
    article = ArticleFactory(side_effects=2)
    for key in KEYS:
        ReferenceFactory(article=article, key=key)
    effects = list(article.side_effects.all())
    scripts_of_a_page = [tag for tag, attrs in Elements(page_of(client, article)).tags if tag == "script"]

    @fuzz_settings(150)
    @given(body=markdown_text, descriptions=st.lists(markdown_text, min_size=2, max_size=2))
    @example(body='See [the study](https://example.org "as in [@x1]").', descriptions=["", ""])
    def check(body, descriptions):
        with refresh_once():
            article.body = body
            article.save()
            for effect, description in zip(effects, descriptions, strict=True):
                effect.description = description
                effect.save()

        elements = Elements(page_of(client, article))

        assert [tag for tag, attrs in elements.tags if tag == "script"] == scripts_of_a_page
        assert not [attrs for tag, attrs in elements.tags if any(name.startswith("on") for name in attrs)]
        for href in elements.hrefs("#ref-"):
            assert elements.with_id(href[1:]), f"{href} has no target"
        for href in elements.hrefs("#cite-"):
            assert [tag for tag, attrs in elements.with_id(href[1:])] == ["sup"], f"{href} is not a citation"
        # Raw HTML may nest links by itself (the sanitizer keeps the tree it parsed); a
        # citation never adds a link inside another.
        assert not [attrs for attrs in elements.nested_links if attrs.get("href", "").startswith("#ref-")]
        entries = [
            attrs["id"]
            for tag, attrs in elements.tags
            if tag == "li" and attrs.get("id", "").startswith("ref-")
        ]
        assert entries == [f"ref-{number}" for number in range(1, len(KEYS) + 1)]

    check()
