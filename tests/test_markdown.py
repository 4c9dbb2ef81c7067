"""Editors write Markdown; readers get rendered, sanitized HTML stored at save time."""

import pytest

from articles.markdown import render_markdown
from tests.factories import ArticleFactory, SideEffectFactory

pytestmark = pytest.mark.django_db


def test_headings_links_and_lists_render():
    html = render_markdown("## Healing\n\nSee [the guide](/articles/guide/).\n\n- first\n- second\n")

    assert '<h2 id="healing">Healing</h2>' in html
    assert '<a href="/articles/guide/" rel="noopener noreferrer">the guide</a>' in html
    assert "<li>first</li>" in html
    assert "<li>second</li>" in html


def test_top_level_heading_becomes_a_section_heading_not_a_second_h1():
    html = render_markdown("# Overview\n\ntext")

    assert "<h1" not in html
    assert "<h2" in html


def test_script_tags_are_removed():
    html = render_markdown("Hello <script>alert('x')</script> world")

    assert "<script" not in html
    assert "alert('x')" not in html


def test_event_handler_attributes_are_removed():
    html = render_markdown('<img src="x.png" alt="x" onerror="alert(1)"> <p onclick="steal()">hi</p>')

    assert "onerror" not in html
    assert "onclick" not in html
    assert "alert(1)" not in html


def test_javascript_links_are_stripped():
    html = render_markdown(
        "[click me](javascript:alert(document.cookie)) <a href='JaVaScRiPt:alert(1)'>x</a>"
    )

    assert "javascript:" not in html.lower()
    assert "click me" in html


def test_style_and_iframe_are_removed():
    html = render_markdown('<style>body{display:none}</style><iframe src="https://evil.example"></iframe>ok')

    assert "<style" not in html
    assert "<iframe" not in html
    assert "ok" in html


def test_article_body_html_is_stored_when_saved():
    article = ArticleFactory(body="**bold** move")

    article.refresh_from_db()
    assert article.body_html == "<p><strong>bold</strong> move</p>"

    article.body = "*changed*"
    article.save(update_fields=["body"])
    article.refresh_from_db()
    assert article.body_html == "<p><em>changed</em></p>"


def test_side_effect_description_html_is_stored_when_saved():
    side_effect = SideEffectFactory(description="Goes away <script>x()</script>*soon*")

    side_effect.refresh_from_db()
    assert side_effect.description_html == "<p>Goes away <em>soon</em></p>"
