"""backup and restore: every article, side effect and comment comes back exactly.

Transactional tests: pg_restore runs in another process and must see committed rows,
and a restore cannot run inside the test's transaction on either database.
"""

import re
import sqlite3
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from articles.models import Article, SideEffect
from comments.models import Comment
from smpinfo import backups
from tests.commands import call as run
from tests.factories import ArticleFactory, CommentFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL); CI runs it"
)
SUFFIX = ".pgdump" if connection.vendor == "postgresql" else ".sqlite3"


def all_rows():
    """Every column of every article, side effect and comment, in primary-key order."""
    return {
        model.__name__: list(model.objects.order_by("pk").values_list())
        for model in (Article, SideEffect, Comment)
    }


@pytest.fixture
def content():
    """The seed articles, an article with three side effects and comments of every kind."""
    call_command("seed_content", stdout=StringIO())
    article = ArticleFactory(side_effects=3, author=UserFactory(username="writer"))
    CommentFactory.create_batch(2, article=article)
    CommentFactory(
        article=article,
        status=Comment.Status.REJECTED,
        moderated_by=UserFactory(username="mod"),
        moderated_at=timezone.now(),
        ip_address=None,
    )
    CommentFactory(article=Article.objects.get(slug="what-is-scalp-micropigmentation"))
    return article


@pytest.fixture
def backup_file(content, tmp_path):
    run("backup", "--output-dir", str(tmp_path))
    [path] = tmp_path.iterdir()
    return path


def test_restore_brings_back_every_article_side_effect_and_comment(content, tmp_path, client):
    before = all_rows()
    assert (len(before["Article"]), len(before["SideEffect"]), len(before["Comment"])) == (3, 9, 4)

    output = run("backup", "--output-dir", str(tmp_path))

    [path] = tmp_path.iterdir()
    assert re.fullmatch(r"smpinfo-\d{8}-\d{6}" + re.escape(SUFFIX), path.name)
    assert path.name in output
    assert "3 articles, 9 side effects, 4 comments" in output

    # Lose an article with its side effects and comments, edit another, add a comment.
    content.delete()
    seeded = Article.objects.get(slug="what-is-scalp-micropigmentation")
    seeded.title = "Edited after the backup"
    seeded.save()
    CommentFactory(article=seeded, body="Written after the backup.")
    assert "Edited after the backup" in client.get(seeded.get_absolute_url()).content.decode()
    assert all_rows() != before

    output = run("restore", str(path), "--yes")

    assert all_rows() == before
    assert "Restored" in output
    assert "3 articles, 9 side effects, 4 comments" in output
    # Readers see the restored content at once, not a page cached before the restore.
    page = client.get(seeded.get_absolute_url()).content.decode()
    assert "What is scalp micropigmentation?" in page
    assert "Edited after the backup" not in page
    # The site carries on: new rows get fresh primary keys.
    new_comment = CommentFactory(article=Article.objects.get(slug=content.slug))
    assert new_comment.pk > max(row[0] for row in before["Comment"])


def test_the_backup_file_is_private_and_of_the_databases_kind(backup_file):
    assert backup_file.stat().st_mode & 0o077 == 0  # commenters' emails: for the owner only
    assert backups.file_kind(backup_file) == connection.vendor


def test_two_backups_in_the_same_second_do_not_overwrite_each_other(content, tmp_path):
    run("backup", "--output-dir", str(tmp_path))
    run("backup", "--output-dir", str(tmp_path))
    assert len([path for path in tmp_path.iterdir() if path.name.endswith(SUFFIX)]) == 2
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]


def test_restore_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match=r"No backup file at .*missing\.sqlite3"):
        run("restore", str(tmp_path / "missing.sqlite3"), "--yes")


def test_restore_refuses_the_wrong_kind_of_backup(content, tmp_path):
    before = all_rows()
    if connection.vendor == "sqlite":
        wrong = tmp_path / "smpinfo-20260101-000000.pgdump"
        wrong.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(64))
        message = "is a PostgreSQL backup, but this site's database is SQLite"
    else:
        wrong = tmp_path / "smpinfo-20260101-000000.sqlite3"
        sqlite3.connect(wrong).execute("CREATE TABLE t (x)").connection.close()
        message = "is a SQLite backup, but this site's database is PostgreSQL"

    with pytest.raises(CommandError, match=re.escape(message)):
        run("restore", str(wrong), "--yes")

    assert all_rows() == before


def test_restore_refuses_a_file_that_is_not_a_backup(content, tmp_path):
    before = all_rows()
    notes = tmp_path / "notes.sqlite3"
    notes.write_text("Remember to back up the site.\n")

    with pytest.raises(CommandError, match=re.escape("is not a backup made by `manage.py backup`")):
        run("restore", str(notes), "--yes")

    assert all_rows() == before


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite backups are checked before restoring")
def test_restore_refuses_another_applications_sqlite_database(content, tmp_path):
    before = all_rows()
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()

    with pytest.raises(CommandError, match="is not an smpinfo backup"):
        run("restore", str(other), "--yes")

    assert all_rows() == before


class FakeTerminal(StringIO):
    def isatty(self):
        return True


def test_restore_without_yes_refuses_when_nobody_can_confirm(backup_file, monkeypatch):
    Comment.objects.all().delete()
    monkeypatch.setattr(sys, "stdin", StringIO())

    with pytest.raises(CommandError, match="--yes"):
        run("restore", str(backup_file))

    assert not Comment.objects.exists()


def test_restore_asks_first_and_does_nothing_unless_told_yes(backup_file, monkeypatch):
    Comment.objects.all().delete()
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    monkeypatch.setattr("builtins.input", lambda prompt: "no")

    assert "Restore cancelled" in run("restore", str(backup_file))
    assert not Comment.objects.exists()

    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    assert "Restored" in run("restore", str(backup_file))
    assert Comment.objects.count() == 4


@on_postgresql
def test_backup_refuses_clearly_without_pg_dump(content, tmp_path, monkeypatch):
    monkeypatch.setattr(backups.shutil, "which", lambda program: None)

    with pytest.raises(CommandError, match="pg_dump was not found"):
        run("backup", "--output-dir", str(tmp_path))

    assert list(tmp_path.iterdir()) == []


@on_postgresql
def test_backup_reports_pg_dump_errors_and_leaves_no_file(content, tmp_path, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "NAME", "no_such_database")

    with pytest.raises(CommandError, match=r'(?s)pg_dump failed.*"no_such_database" does not exist'):
        run("backup", "--output-dir", str(tmp_path))

    assert list(tmp_path.iterdir()) == []
