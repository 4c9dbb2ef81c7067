"""Emails of earlier comments in lower case, and the fingerprint of every comment that has an email.

Comments stored before this release may have an email in mixed case ("Sam@Example.org"); the
duplicate check, the first-time rule and erase_commenter compare stored emails exactly, so they
are lowered here, as the form and Comment.save() lower new ones.

A database may already hold duplicates (the check before the unique constraint could be raced,
and it only looked one day back). They must not make the next migration, which adds the
constraint, fail: on each article the oldest comment of a fingerprint gets it, and every later
one keeps a NULL fingerprint (nobody's duplicate), its text and status untouched.
"""

import hashlib
import unicodedata

from django.db import migrations

BATCH_SIZE = 1000


def duplicate_fingerprint(email, body):
    """comments.models.duplicate_fingerprint as this migration was written (frozen here, as a
    migration must not follow later changes to the model's code)."""
    email = (email or "").strip().lower()
    if not email:
        return None
    text = " ".join(unicodedata.normalize("NFC", body or "").split())
    return hashlib.sha256(f"{email}\n{text}".encode()).hexdigest()


def fill_fingerprints(apps, schema_editor):
    """One article at a time, its comments read in full before any is written (SQLite does not
    isolate a cursor from writes to the table it reads)."""
    Comment = apps.get_model("comments", "Comment")
    article_ids = Comment.objects.order_by().values_list("article_id", flat=True).distinct()
    for article_id in list(article_ids):
        comments = list(
            Comment.objects.filter(article_id=article_id)
            .order_by("created_at", "pk")
            .only("pk", "author_email", "body")
        )
        seen = set()
        for comment in comments:
            comment.author_email = (comment.author_email or "").strip().lower()
            fingerprint = duplicate_fingerprint(comment.author_email, comment.body)
            if fingerprint in seen:
                fingerprint = None  # a later duplicate: kept as it is, without a fingerprint
            elif fingerprint is not None:
                seen.add(fingerprint)
            comment.fingerprint = fingerprint
        Comment.objects.bulk_update(comments, ["author_email", "fingerprint"], batch_size=BATCH_SIZE)


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0005_add_comment_fingerprint"),
    ]

    operations = [
        migrations.RunPython(fill_fingerprints, migrations.RunPython.noop, elidable=True),
    ]
