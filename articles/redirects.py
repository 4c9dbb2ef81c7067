"""Old addresses that keep working, and addresses gone on purpose.

- A published article whose slug changes leaves a redirect from its old address to the
  new one, whatever changes it: a save (the admin), a queryset update, or a restored
  revision (a raw save: the signals fire for it too).
- An article published at an address takes it: a redirect saved from there goes, so the
  article lives there and no chain can pass through it.
- An article withdrawn on purpose (`withdraw()`) answers 410 Gone at its address until
  it is published there again.

What a redirect does when saved (no chain, no loop, out of the 404 report) is
articles.models.Redirect's; answering readers is articles.middleware's.
"""

from typing import NamedTuple

from django.apps import apps
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.urls import get_script_prefix, reverse
from django.utils import timezone

from articles import missing_paths
from articles.models import Article, Redirect

# The fields an article's address and visibility are made of.
ADDRESS_FIELDS = ("slug", "status", "published_at")
# Set on an article by pre_save when its save cannot change its address (see remember_address).
UNCHANGED = object()


class Address(NamedTuple):
    """An article's address and whether it is published there, as a row of the database holds them."""

    slug: str
    status: str
    published_at: object

    @property
    def is_claimed(self):
        """Published (or scheduled) here: the article takes the address."""
        return self.status == Article.Status.PUBLISHED

    @property
    def readers_see(self):
        """The same question as Article.objects.published(), for this row."""
        return self.is_claimed and self.published_at <= timezone.now()


def article_address(slug):
    """The path of an article's page as redirects store it: without the script prefix."""
    url = reverse("articles:detail", kwargs={"slug": slug})
    return "/" + url.removeprefix(get_script_prefix())


def address_changed(before, after, note=None):
    """Apply the rules to an article whose row went from `before` (None: a new row) to `after`."""
    new_path = article_address(after.slug)
    moved = before is not None and before.readers_see and before.slug != after.slug
    takes_address = after.is_claimed and (
        before is None or not before.is_claimed or before.slug != after.slug
    )
    if not (moved or takes_address):
        return
    with transaction.atomic():
        if takes_address:
            Redirect.objects.filter(old_path=new_path).delete()
        if moved:
            date = timezone.localdate().isoformat()
            leave_redirect(
                article_address(before.slug),
                new_path,
                note or f"Old address, left by a slug change on {date}.",
            )


def leave_redirect(old_path, new_path, note):
    """Save the redirect from `old_path` (a new one, or the one already there) to `new_path`."""
    redirect = Redirect.objects.filter(old_path=old_path).first() or Redirect(old_path=old_path)
    redirect.new_path = new_path
    redirect.note = note
    redirect.save()
    return redirect


def withdraw(articles, note):
    """Unpublish `articles` (a queryset) on purpose: their addresses answer 410 Gone, also after
    they are deleted, until one is published there again. Returns how many."""
    slugs = list(articles.values_list("slug", flat=True))
    with transaction.atomic():
        Article.objects.filter(slug__in=slugs).update(status=Article.Status.DRAFT)
        for slug in slugs:
            leave_redirect(article_address(slug), "", note)
    return len(slugs)


def remember_address(sender, instance, update_fields=None, **kwargs):
    """pre_save receiver of Article: note its address as the database holds it before the
    save (the row, not the instance: readers saw the row), for article_address_saved."""
    if update_fields is not None and not set(ADDRESS_FIELDS) & set(update_fields):
        instance._address_before = UNCHANGED
        return
    row = None
    if instance.pk is not None:
        row = Article.objects.filter(pk=instance.pk).values_list(*ADDRESS_FIELDS).first()
    instance._address_before = None if row is None else Address(*row)


def article_address_saved(sender, instance, **kwargs):
    """post_save receiver of Article: leave a redirect from the address readers saw, and take
    the address it is published at."""
    before = instance.__dict__.pop("_address_before", UNCHANGED)
    if before is not UNCHANGED:
        address_changed(before, Address(instance.slug, instance.status, instance.published_at))


def addresses_before_update(queryset, fields):
    """For ArticleQuerySet.update(): {pk: Address} of the articles an update of `fields` may
    move or publish, read before it; {} when it changes no address."""
    if not set(ADDRESS_FIELDS) & set(fields):
        return {}
    return {pk: Address(*row) for pk, *row in queryset.values_list("pk", *ADDRESS_FIELDS)}


def addresses_updated(before):
    """For ArticleQuerySet.update(): apply the rules to the articles `before` held, as they are now."""
    for pk, *row in Article.objects.filter(pk__in=before).values_list("pk", *ADDRESS_FIELDS):
        if Address(*row) != before[pk]:
            address_changed(before[pk], Address(*row))


def connect_signals():
    """Connected by ArticlesConfig.ready(), for Article and its proxies."""
    for model in (Article, *apps.get_app_config("articles").get_proxies_of(Article)):
        pre_save.connect(remember_address, sender=model, dispatch_uid=f"remember-address-{model.__name__}")
        post_save.connect(article_address_saved, sender=model, dispatch_uid=f"address-saved-{model.__name__}")
    missing_paths.connect_signals()
