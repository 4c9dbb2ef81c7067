"""The images an article shows: its featured image, each side effect's own, and those its
Markdown embeds with ![alt](image:ID). Which they are, whether they exist, and whether a
published page may show them (a person's photograph needs their recorded consent)."""

import re

from django.core.exceptions import ValidationError
from django.urls import reverse

from images.models import Image

# ![alt](image:ID) in an editor's Markdown; the ID is checked, not assumed to be a number.
INLINE_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?image:([^\s)>]*)")


def inline_image_ids(text):
    """The image IDs `text` embeds, in order, as written (not necessarily numbers)."""
    return INLINE_IMAGE.findall(text or "")


def check_inline_images(text):
    """Raise a ValidationError naming every ![...](image:ID) of `text` that is no image of
    the library (or one that has no renditions); return the numbers of those that are."""
    written = inline_image_ids(text)
    numbers = {int(ref) for ref in written if ref.isdigit()}
    usable = set(Image.objects.usable().filter(pk__in=numbers).values_list("pk", flat=True))
    unknown = [ref for ref in dict.fromkeys(written) if not ref.isdigit() or int(ref) not in usable]
    if unknown:
        names = ", ".join(f"image:{ref}" if ref else "image: (no number)" for ref in unknown)
        raise ValidationError(
            f"No such image in the library: {names}. Embed an image by its number, as in "
            "![what it shows](image:12); the image library lists the numbers."
        )
    return [int(ref) for ref in written if ref.isdigit()]


def image_ids_shown(article, side_effects):
    """The pks of every image the article's page shows."""
    ids = {article.featured_image_id} if article.featured_image_id else set()
    ids.update(int(ref) for ref in inline_image_ids(article.body) if ref.isdigit())
    for effect in side_effects:
        if effect.image_id:
            ids.add(effect.image_id)
        ids.update(int(ref) for ref in inline_image_ids(effect.description) if ref.isdigit())
    return ids


def without_consent(image_ids):
    """The images among `image_ids` that show a person whose consent is not recorded."""
    return [
        image
        for image in Image.objects.filter(pk__in=image_ids, shows_person=True)
        if not image.consent_recorded
    ]


def consent_refusal(images):
    """Why a page with `images` (from without_consent()) may not be published, or ''."""
    if not images:
        return ""
    names = ", ".join(f"“{image}”" for image in images)
    return (
        f"These images show a person whose consent is not recorded: {names}. Record the consent "
        "(date and reference) in the image library, or take the image off the article, before publishing."
    )


def image_changed(sender, instance, created=False, **kwargs):
    """post_save receiver of images.Image: every article that shows the image stores its
    content again (its Markdown rendered again, for the figures it embeds), which retires
    the cached pages that show the old alt text, caption or credit."""
    from articles.models import Article, SideEffect, refresh_once

    if created or kwargs.get("raw"):
        return
    marker = f"image:{instance.pk}"
    articles = Article.objects.filter(image_links__image=instance)
    with refresh_once():
        for article in articles:
            article.save(update_fields=["body"])  # renders the body again; refreshed at the end
        for effect in SideEffect.objects.filter(article__in=articles, description__contains=marker):
            effect.save(update_fields=["description"])


def articles_showing(image_ids):
    """The images library's "used on" (images.usage): the articles that show each image."""
    from articles.models import ArticleImage
    from images.usage import Page

    found = {pk: [] for pk in image_ids}
    links = (
        ArticleImage.objects.filter(image_id__in=image_ids)
        .select_related("article")
        .only("image_id", "article__title", "article__status", "article__published_at")
    )
    for link in links.order_by("article__title"):
        article = link.article
        state = "published" if article.is_published else "not published"
        found[link.image_id].append(
            Page(
                f"{article.title} ({state})",
                reverse("admin:articles_article_change", args=[article.pk]),
                article.is_published,
            )
        )
    return found
