from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0009_help_texts_and_key_rule"),
        ("comments", "0006_fill_comment_fingerprints"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="comment",
            constraint=models.UniqueConstraint(
                fields=("article", "fingerprint"), name="comment_unique_fingerprint"
            ),
        ),
    ]
