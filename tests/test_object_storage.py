"""Uploaded images in S3-compatible object storage (django-storages), against a real S3 API
on this machine: moto's standalone server, started by the tests, no cloud account.

The site writes an image's files to the bucket, serves them back at /media/, removes them
with the image, and tells an editor (not a traceback) when the bucket does not answer.
Backups carry the bucket's files and restore writes them back. Two app servers on one
bucket serve an image uploaded through either of them.
"""

import json
import re
import sqlite3
import subprocess
import sys
import uuid

import pytest
from django.core.management import CommandError

from images.models import Image
from tests.commands import call as run
from tests.pictures import library_image, picture_bytes, upload
from tests.servers import (
    BASE_DIR,
    Browser,
    EmbeddedAppServer,
    EmbeddedSite,
    MotoServer,
    csrf_token,
    serving,
)

# By rendition format and by file name extension.
CONTENT_TYPES = {
    "avif": "image/avif",
    "webp": "image/webp",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "png": "image/png",
}


@pytest.fixture(scope="module")
def s3_server():
    server = MotoServer()
    server.start()
    yield server
    server.stop()


def use_bucket(settings, monkeypatch, server):
    """Point the default storage at a new bucket of `server`, as settings.py does when
    AWS_STORAGE_BUCKET_NAME is set; returns the bucket's name."""
    bucket = f"smpinfo-{uuid.uuid4().hex[:12]}"
    server.client().create_bucket(Bucket=bucket)
    for variable, value in server.credentials.items():
        monkeypatch.setenv(variable, value)
    # One attempt: a bucket that is down is told at once, not after botocore's retries.
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": server.url,
                "region_name": server.region,
                "default_acl": None,
                "file_overwrite": False,
                "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
            },
        },
    }
    return bucket


def objects_in(server, bucket):
    """{key: bytes} of everything in the bucket."""
    s3 = server.client()
    listing = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read() for item in listing}


@pytest.fixture
def bucket(s3_server, settings, monkeypatch):
    return use_bucket(settings, monkeypatch, s3_server)


@pytest.mark.django_db
def test_renditions_are_written_to_the_bucket_and_served_at_media(s3_server, bucket, client):
    image = library_image()

    stored = objects_in(s3_server, bucket)
    assert set(stored) == set(image.file_names())
    assert len(image.renditions) == 9  # three widths (at most the image's own) in AVIF, WebP and JPEG
    for rendition in image.renditions:
        response = client.get(f"/media/{rendition['name']}")
        assert response.status_code == 200
        assert response["Content-Type"] == CONTENT_TYPES[rendition["format"]]
        assert response["Cache-Control"] == "public, max-age=31536000, immutable"
        assert b"".join(response.streaming_content) == stored[rendition["name"]]
        assert len(stored[rendition["name"]]) == rendition["bytes"]
    head = s3_server.client().head_object(Bucket=bucket, Key=image.renditions[0]["name"])
    assert head["CacheControl"] == "public, max-age=31536000, immutable"


@pytest.mark.django_db
def test_an_image_missing_from_the_bucket_is_not_found(s3_server, bucket, client):
    image = library_image()
    name = image.renditions[0]["name"]
    s3_server.client().delete_object(Bucket=bucket, Key=name)

    assert client.get(f"/media/{name}").status_code == 404


@pytest.mark.django_db
def test_deleting_an_unused_image_removes_its_objects(
    s3_server, bucket, editor_client, django_capture_on_commit_callbacks
):
    image = library_image()
    kept = library_image(800, 600)
    assert set(objects_in(s3_server, bucket)) == {*image.file_names(), *kept.file_names()}

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(f"/admin/images/image/{image.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert list(Image.objects.all()) == [kept]
    assert set(objects_in(s3_server, bucket)) == set(kept.file_names())


@pytest.mark.django_db
def test_a_bucket_that_does_not_answer_is_told_and_nothing_is_saved(settings, monkeypatch, editor_client):
    server = MotoServer()
    server.start()
    try:
        use_bucket(settings, monkeypatch, server)
        image = library_image()
        name = image.renditions[0]["name"]
    finally:
        server.stop()

    response = editor_client.post(
        "/admin/images/image/add/",
        {
            "upload": upload(),
            "alt_text": "A healed scalp",
            "caption": "",
            "credit": "",
        },
    )

    assert response.status_code == 200
    assert "The image could not be stored" in response.content.decode()
    assert list(Image.objects.all()) == [image]

    response = editor_client.get(f"/media/{name}")
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response.content.decode() == "The image store is not answering; try again shortly."


# Backups -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # a restore cannot run inside the test's transaction
def test_backup_carries_the_buckets_files_and_restore_writes_them_back(s3_server, bucket, tmp_path, client):
    image = library_image()
    stored = objects_in(s3_server, bucket)
    run("backup", "--output-dir", str(tmp_path))
    [path] = tmp_path.iterdir()
    image.delete()
    assert objects_in(s3_server, bucket) == {}

    output = run("restore", str(path), "--yes")

    assert f"{len(stored)} image file(s) written back to the storage" in output
    assert objects_in(s3_server, bucket) == stored
    name = Image.objects.get().largest()["name"]
    response = client.get(f"/media/{name}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == stored[name]


@pytest.mark.django_db(transaction=True)
def test_restore_with_the_bucket_down_leaves_the_database_as_it_was(settings, monkeypatch, tmp_path):
    library_image()  # on local disk, the tests' default storage
    run("backup", "--output-dir", str(tmp_path))
    [path] = tmp_path.iterdir()
    Image.objects.all().delete()
    server = MotoServer()
    server.start()
    use_bucket(settings, monkeypatch, server)
    server.stop()

    with pytest.raises(
        CommandError, match=r"Writing images/\S+ to the storage failed .*The database was not changed"
    ):
        run("restore", str(path), "--yes")

    assert not Image.objects.exists()


# Two app servers on one bucket ----------------------------------------------------------


def multipart(fields, files):
    """A multipart/form-data body of `fields` {name: value} and `files` {name: (filename,
    content type, bytes)}, and its Content-Type, as a browser sends a form with a file."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, content_type, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def upload_through(server, browser, data):
    """Upload `data` through the admin of `server` (already logged in); the status it answered."""
    import urllib.request

    form, _ = browser.get(f"{server.url}/admin/images/image/add/")
    body, content_type = multipart(
        {"csrfmiddlewaretoken": csrf_token(form), "alt_text": "A healed scalp", "caption": "", "credit": ""},
        {"upload": ("scalp.jpg", "image/jpeg", data)},
    )
    request = urllib.request.Request(
        f"{server.url}/admin/images/image/add/",
        data=body,
        headers={"Content-Type": content_type, "Referer": f"{server.url}/admin/images/image/add/"},
    )
    with browser.opener.open(request, timeout=30) as response:
        page = response.read().decode()
    assert "was added successfully" in page, re.sub(r"\s+", " ", page)[-2000:]


def log_in(server, username, password):
    browser = Browser()
    login_page, _ = browser.get(f"{server.url}/admin/login/")
    status, page = browser.post_with_status(
        f"{server.url}/admin/login/?next=/admin/",
        {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": csrf_token(login_page),
            "next": "/admin/",
        },
    )
    assert status == 200 and "Log out" in page, page[-2000:]
    return browser


def test_two_app_servers_on_one_bucket_serve_an_image_uploaded_through_either(s3_server, tmp_path):
    bucket = f"smpinfo-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=bucket)
    site = EmbeddedSite(tmp_path)  # one SQLite file, shared by both servers
    storage = {**s3_server.site_env(bucket), "MEDIA_ROOT": str(tmp_path / "unused-media")}
    password = "a-long-admin-password-for-this-test"
    created = subprocess.run(
        [sys.executable, "manage.py", "createsuperuser", "--noinput", "--username", "admin"],
        cwd=BASE_DIR,
        env={
            **site.env,
            **storage,
            "DJANGO_SUPERUSER_PASSWORD": password,
            "DJANGO_SUPERUSER_EMAIL": "admin@clinic.example",
        },
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr

    with serving(EmbeddedAppServer(site, storage), EmbeddedAppServer(site, storage)) as servers:
        for number, uploader in enumerate(servers, start=1):
            upload_through(uploader, log_in(uploader, "admin", password), picture_bytes())

            names = stored_names(tmp_path / "db.sqlite3", number)
            stored = objects_in(s3_server, bucket)
            assert names <= set(stored)
            for server in servers:
                for name in names:
                    with Browser().opener.open(f"{server.url}/media/{name}", timeout=10) as response:
                        assert response.status == 200
                        assert response.headers["Content-Type"] == CONTENT_TYPES[name.rsplit(".", 1)[1]]
                        assert response.read() == stored[name]
    # Nothing went to the local disk: the bucket is the only store.
    assert not (tmp_path / "unused-media").exists()


def stored_names(database, pk):
    """The file names of image `pk` as the site's database (an SQLite file) records them."""
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT file, renditions FROM images_image WHERE id = ?", [pk]).fetchone()
    assert row is not None, f"no image {pk} in the site's database"
    file, renditions = row
    return {file, *(rendition["name"] for rendition in json.loads(renditions))}
