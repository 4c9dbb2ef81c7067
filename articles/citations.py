"""Citations: `[@key]` in an article's Markdown cites one of its references.

Editors write `[@smith2020]` in the body or a side effect's description. When the
article is saved, every citation becomes a superscript link to its numbered entry under
"References", numbered in order of first citation (the body first, then the side
effects in order), and each entry links back to every place that cites it.
"""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.utils.html import format_html

from articles.markdown import render_markdown

# Letters and digits, joined by single . _ : or - ("smith2020", "who:2019-a"): a run of
# punctuation would be turned into typography ("--" into a dash) before it is linked.
CITATION_KEY = r"[A-Za-z0-9]+(?:[_.:-][A-Za-z0-9]+)*"
CITATION = re.compile(rf"\[@({CITATION_KEY})\]")
# Crossref's advice for modern DOIs, and PubMed's identifiers.
DOI = r"^10\.\d{4,9}/\S+\Z"
PMID = r"^[1-9]\d{0,7}\Z"
# A citation is linked only in text: not inside a link (no link in a link), code, or an
# attribute, where it stays as written.
NOT_LINKED_INSIDE = {"a", "code", "pre"}


@dataclass
class Entry:
    """One numbered entry of the references list, with the ids of the places citing it."""

    number: int
    reference: object
    citations: list = field(default_factory=list)


@dataclass
class CitedContent:
    body_html: str
    side_effect_htmls: list
    entries: list


class CitationFinder(HTMLParser):
    """Walks sanitized HTML and hands each citation in its text to `cite(key, written)`,
    which returns what to put in its place; the rest of the HTML is kept as it is."""

    def __init__(self, cite):
        super().__init__(convert_charrefs=False)
        self.cite = cite
        self.out = []
        self.skipping = []

    def handle_starttag(self, tag, attrs):
        self.out.append(self.get_starttag_text())
        if tag in NOT_LINKED_INSIDE:
            self.skipping.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.out.append(self.get_starttag_text())

    def handle_endtag(self, tag):
        self.out.append(f"</{tag}>")
        if tag in self.skipping:
            del self.skipping[len(self.skipping) - 1 - self.skipping[::-1].index(tag)]

    def handle_data(self, data):
        if self.skipping:
            self.out.append(data)
        else:
            self.out.append(CITATION.sub(lambda match: self.cite(match.group(1), match.group(0)), data))

    def handle_entityref(self, name):
        self.out.append(f"&{name};")

    def handle_charref(self, name):
        self.out.append(f"&#{name};")

    def result(self, html):
        self.feed(html or "")
        self.close()
        return "".join(self.out)


def cited_keys(html):
    """The keys sanitized HTML cites where a reader gets a link, in order of first citation."""
    keys = []
    CitationFinder(lambda key, written: keys.append(key) or written).result(html)
    return list(dict.fromkeys(keys))


def cite_references(body_html, side_effect_htmls, references):
    """Turn the citations in the rendered HTML into numbered links and list the entries.

    A citation of an unknown key is left as written (the admin refuses such a save; a
    save from elsewhere shows the reader the text rather than a broken link). References
    no text cites follow the cited ones, numbered on, with nothing to link back to.
    """
    by_key = {reference.key: reference for reference in references}
    entries = {}

    def link(key, written):
        reference = by_key.get(key)
        if reference is None:
            return written
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = Entry(number=len(entries) + 1, reference=reference)
        citation_id = f"cite-{entry.number}-{len(entry.citations) + 1}"
        entry.citations.append(citation_id)
        return format_html(
            '<sup class="citation" id="{}"><a href="#ref-{}" aria-label="Reference {}">[{}]</a></sup>',
            citation_id,
            entry.number,
            entry.number,
            entry.number,
        )

    cited_body = CitationFinder(link).result(body_html)
    cited_side_effects = [CitationFinder(link).result(html) for html in side_effect_htmls]
    for reference in references:
        if reference.key not in entries:
            entries[reference.key] = Entry(number=len(entries) + 1, reference=reference)
    return CitedContent(cited_body, cited_side_effects, list(entries.values()))


def citation_problems(body, side_effects, keys):
    """(errors, uncited): what is wrong with the citations of an article about to be saved.

    `body` is its Markdown, `side_effects` a list of (name, Markdown) and `keys` its
    references' keys. Errors name each unknown key and where it is cited; `uncited` lists
    the keys no text cites (a warning, not an error). The texts are rendered as the page
    renders them, so that the admin and the page agree on what is a citation.
    """
    errors = []
    cited = set()
    for place, text in [
        ("The article's body", body),
        *((f"The side effect “{name}”", text) for name, text in side_effects),
    ]:
        for key in cited_keys(render_markdown(text)):
            cited.add(key)
            if key not in keys:
                errors.append(
                    f"{place} cites [@{key}], but no reference of this article has the key “{key}”."
                )
    uncited = [key for key in keys if key not in cited]
    return errors, uncited
