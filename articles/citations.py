"""Citations: `[@key]` in an article's Markdown cites one of its references.

Editors write `[@smith2020]` in the body or a side effect's description. When the
article is saved, every citation becomes a superscript link to its numbered entry under
"References", numbered in order of first citation (the body first, then the side
effects in order), and each entry links back to every place that cites it.
"""

import re
from dataclasses import dataclass, field

from django.utils.html import format_html

CITATION_KEY = r"[A-Za-z0-9][A-Za-z0-9_.:-]*"
CITATION = re.compile(rf"\[@({CITATION_KEY})\]")
# Crossref's advice for modern DOIs, and PubMed's identifiers.
DOI = r"^10\.\d{4,9}/\S+\Z"
PMID = r"^[1-9]\d{0,7}\Z"
# Citations are not links inside code: `[@key]` there is shown as written.
CODE = re.compile(r"(<pre\b.*?</pre>|<code\b.*?</code>)", re.DOTALL | re.IGNORECASE)
MARKDOWN_CODE = re.compile(r"```.*?```|~~~.*?~~~|`[^`\n]*`", re.DOTALL)


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


def cited_keys(text):
    """The keys `text` cites, in order of first citation."""
    return list(dict.fromkeys(CITATION.findall(MARKDOWN_CODE.sub("", text or ""))))


def cite_references(body_html, side_effect_htmls, references):
    """Turn the citations in the rendered HTML into numbered links and list the entries.

    A citation of an unknown key is left as written (the admin refuses such a save; a
    save from elsewhere shows the reader the text rather than a broken link). References
    no text cites follow the cited ones, numbered on, with nothing to link back to.
    """
    by_key = {reference.key: reference for reference in references}
    entries = {}

    def link(match):
        reference = by_key.get(match.group(1))
        if reference is None:
            return match.group(0)
        entry = entries.get(reference.key)
        if entry is None:
            entry = entries[reference.key] = Entry(number=len(entries) + 1, reference=reference)
        citation_id = f"cite-{entry.number}-{len(entry.citations) + 1}"
        entry.citations.append(citation_id)
        return format_html(
            '<sup class="citation" id="{}"><a href="#ref-{}" aria-label="Reference {}">[{}]</a></sup>',
            citation_id,
            entry.number,
            entry.number,
            entry.number,
        )

    def cite(html):
        parts = CODE.split(html or "")
        return "".join(part if index % 2 else CITATION.sub(link, part) for index, part in enumerate(parts))

    cited_body = cite(body_html)
    cited_side_effects = [cite(html) for html in side_effect_htmls]
    for reference in references:
        if reference.key not in entries:
            entries[reference.key] = Entry(number=len(entries) + 1, reference=reference)
    return CitedContent(cited_body, cited_side_effects, list(entries.values()))


def citation_problems(body, side_effects, keys):
    """(errors, uncited): what is wrong with the citations of an article about to be saved.

    `body` is its Markdown, `side_effects` a list of (name, Markdown) and `keys` its
    references' keys. Errors name each unknown key and where it is cited; `uncited` lists
    the keys no text cites (a warning, not an error).
    """
    errors = []
    cited = set()
    for place, text in [
        ("The article's body", body),
        *((f"The side effect “{name}”", text) for name, text in side_effects),
    ]:
        for key in cited_keys(text):
            cited.add(key)
            if key not in keys:
                errors.append(
                    f"{place} cites [@{key}], but no reference of this article has the key “{key}”."
                )
    uncited = [key for key in keys if key not in cited]
    return errors, uncited
