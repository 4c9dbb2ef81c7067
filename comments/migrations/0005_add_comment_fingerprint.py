from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0004_add_pending_per_article_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="comment",
            name="fingerprint",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="The email and text as the reader sent them, hashed "
                "(comments.models.duplicate_fingerprint): the same comment on the same article is refused. "
                "Empty once the commenter is erased.",
                max_length=64,
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="blockedphrase",
            name="phrase",
            field=models.CharField(
                help_text="Matched as whole words, ignoring case, accents, full-width and look-alike letters, "
                "hidden characters, HTML tags and character references. Example: “cheap pills” or "
                "“spam-domain.example”.",
                max_length=200,
                unique=True,
            ),
        ),
    ]
