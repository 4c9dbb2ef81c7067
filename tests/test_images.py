"""The image library: uploads checked and cleaned, renditions made at upload, pictures on
reader pages from stored markup, and what may not be done with an image a page shows."""

import html
import io
import json
import os
import re
import struct
import zlib
from pathlib import Path

import feedparser
import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import call_command
from PIL import Image as Pillow
from PIL import ImageSequence
from reversion.models import Version

from articles.models import Article, ArticleImage
from images.models import Image
from tests.factories import ArticleFactory, admin_article_form_data
from tests.pictures import library_image, picture_bytes, upload
from tests.queries import count_uncached_queries

pytestmark = pytest.mark.django_db

UPLOAD_URL = "/admin/images/image/add/"


def upload_form(data=None, name="photo.jpg", **fields):
    return {"upload": upload(data, name), "alt_text": "A healed scalp", "caption": "", "credit": "", **fields}


def stored_files(settings):
    return sorted(path.name for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file())


def jpeg_with_gps_and_rotation():
    picture = Pillow.open(io.BytesIO(picture_bytes(1200, 800)))
    exif = Pillow.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; the picture is 800 wide once upright
    exif[0x010F] = "CameraMaker"
    gps = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    exif[0x8825] = gps
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", exif=exif.tobytes(), comment=b"clinic room 4")
    return buffer.getvalue()


def test_editor_uploads_an_image_and_gets_renditions_at_three_widths_in_three_formats(
    editor_client, settings
):
    response = editor_client.post(UPLOAD_URL, upload_form(picture_bytes(2000, 1000)))

    assert response.status_code == 302
    image = Image.objects.get()
    assert (image.width, image.height) == (2000, 1000)
    made = {(r["format"], r["width"], r["height"]) for r in image.renditions}
    assert made == {
        (kind, width, width // 2) for kind in ("avif", "webp", "jpeg") for width in (480, 960, 1600)
    }
    for rendition in image.renditions:
        with default_storage.open(rendition["name"]) as handle:
            stored = Pillow.open(handle)
            assert stored.format == rendition["format"].upper()
            assert stored.width == rendition["width"]
    assert image.uploaded_by.username == "editor"


def test_a_small_image_is_never_upscaled(editor_client):
    editor_client.post(UPLOAD_URL, upload_form(picture_bytes(600, 400)))

    image = Image.objects.get()
    assert sorted({r["width"] for r in image.renditions}) == [480, 600]


def test_upload_is_turned_upright_and_loses_its_gps_camera_and_comment_metadata(editor_client, settings):
    upload_data = jpeg_with_gps_and_rotation()
    assert b"CameraMaker" in upload_data and b"clinic room 4" in upload_data

    editor_client.post(UPLOAD_URL, upload_form(upload_data))

    image = Image.objects.get()
    assert (image.width, image.height) == (800, 1200)
    for name in image.file_names():
        data = default_storage.open(name).read()
        assert b"CameraMaker" not in data and b"clinic room 4" not in data and b"Exif" not in data
        assert not Pillow.open(io.BytesIO(data)).getexif()


def test_file_names_carry_a_digest_of_their_content(editor_client):
    editor_client.post(UPLOAD_URL, upload_form())

    for rendition in Image.objects.get().renditions:
        assert re.fullmatch(r"images/[0-9a-f]{20}-\d+\.(avif|webp|jpg)", rendition["name"])


def test_alt_text_is_required_unless_the_image_is_decorative(editor_client):
    response = editor_client.post(UPLOAD_URL, upload_form(alt_text=""))
    assert "Describe what the image shows" in response.content.decode()
    assert not Image.objects.exists()

    editor_client.post(UPLOAD_URL, upload_form(alt_text="", decorative="on"))
    assert Image.objects.get().decorative


def gif_frames(count):
    frames = [Pillow.new("RGB", (64, 64), (40 * index, 0, 0)) for index in range(count)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def png_header_of(width, height):
    """A PNG that claims `width` by `height` pixels in a few dozen bytes (a decompression bomb's shape)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


HOSTILE_FILES = {
    "not an image": (
        b"Just some text, not a picture at all.\n" * 10,
        "notes.jpg",
        "not an image this site accepts",
    ),
    "truncated": (picture_bytes(1200, 800)[:6000], "cut.jpg", "damaged or incomplete"),
    "content unlike its name": (
        picture_bytes(300, 200, "PNG"),
        "photo.jpg",
        "ends in .jpg but it holds a PNG",
    ),
    "HTML/JS polyglot": (
        picture_bytes(300, 200) + b"<html><script>alert(document.cookie)</script></html>",
        "photo.jpg",
        "polyglot",
    ),
    "SVG": (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "drawing.svg",
        "SVG files are not accepted",
    ),
    "animated": (gif_frames(3), "moving.gif", "animated GIF (3 frames)"),
    "decompression bomb": (
        png_header_of(40_000, 40_000),
        "huge.png",
        "more pixels than the limit of 50 megapixels",
    ),
    "zero bytes": (b"", "empty.jpg", "The submitted file is empty"),
}


@pytest.mark.parametrize("kind", HOSTILE_FILES)
def test_hostile_or_broken_file_is_refused_with_a_clear_error_and_nothing_is_saved(
    editor_client, settings, kind
):
    data, name, error = HOSTILE_FILES[kind]

    response = editor_client.post(UPLOAD_URL, upload_form(data, name, caption="Typed caption"))

    assert response.status_code == 200
    page = response.content.decode()
    assert error in page.replace("&amp;", "&").replace("&#x27;", "'")
    assert "Typed caption" in page  # what the editor typed is kept
    assert not Image.objects.exists()
    assert stored_files(settings) == []


def test_image_over_the_pixel_limit_is_refused_with_its_size(editor_client, settings):
    settings.IMAGES_MAX_PIXELS = 1_000_000

    response = editor_client.post(UPLOAD_URL, upload_form(picture_bytes(1500, 1000)))

    assert "The image is 1,500 × 1,000 pixels; the limit is 1 megapixels" in response.content.decode()
    assert not Image.objects.exists()


def test_file_over_the_size_limit_is_refused_naming_the_limit(editor_client, settings):
    settings.IMAGES_MAX_UPLOAD_MB = 1
    noise = io.BytesIO()
    Pillow.frombytes("RGB", (1000, 1000), os.urandom(3_000_000)).save(noise, "JPEG", quality=95)
    data = noise.getvalue()
    assert len(data) > 1_000_000

    response = editor_client.post(UPLOAD_URL, upload_form(data))

    assert "the limit is 1 MB" in response.content.decode()
    assert not Image.objects.exists()


def test_cmyk_jpeg_and_16_bit_png_are_converted_to_rgb(editor_client):
    cmyk = io.BytesIO()
    Pillow.new("CMYK", (500, 300), (0, 200, 200, 0)).save(cmyk, "JPEG")
    grey16 = io.BytesIO()
    Pillow.linear_gradient("L").resize((500, 300)).convert("I").point(lambda v: v * 256).convert("I;16").save(
        grey16, "PNG"
    )

    editor_client.post(UPLOAD_URL, upload_form(cmyk.getvalue(), "print.jpg", alt_text="Red square"))
    editor_client.post(UPLOAD_URL, upload_form(grey16.getvalue(), "scan.png", alt_text="Grey gradient"))

    cmyk_image = Image.objects.get(alt_text="Red square")
    red = Pillow.open(default_storage.open(cmyk_image.largest()["name"]))
    assert red.mode == "RGB"
    r, g, b = red.getpixel((10, 10))
    assert r > 200 and g < 90 and b < 90
    grey = Pillow.open(default_storage.open(Image.objects.get(alt_text="Grey gradient").largest()["name"]))
    assert grey.mode == "RGB"
    # Scaled to 8 bits, not clipped: the middle of the gradient stays mid-grey, the end light.
    assert 100 < grey.getpixel((250, 150))[0] < 160
    assert grey.getpixel((250, 299))[0] > 230


def test_transparent_png_keeps_its_transparency_in_a_png_fallback(editor_client):
    editor_client.post(UPLOAD_URL, upload_form(picture_bytes(600, 400, "PNG", mode="RGBA"), "logo.png"))

    image = Image.objects.get()
    assert image.fallback_format == "png"
    assert Pillow.open(default_storage.open(image.largest()["name"])).mode == "RGBA"


def test_the_same_file_uploaded_twice_points_to_the_image_already_in_the_library(editor_client):
    data = picture_bytes()
    editor_client.post(UPLOAD_URL, upload_form(data))
    first = Image.objects.get()

    response = editor_client.post(UPLOAD_URL, upload_form(data))

    assert "This file is already in the library" in response.content.decode()
    assert f"/admin/images/image/{first.pk}/change/" in response.content.decode()
    assert Image.objects.count() == 1


def test_a_storage_failure_is_told_and_saves_nothing(editor_client, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(FileSystemStorage, "save", broken)

    response = editor_client.post(UPLOAD_URL, upload_form())

    assert "The image could not be stored (OSError): nothing was saved" in response.content.decode()
    assert not Image.objects.exists()


# Reader pages ---------------------------------------------------------------------------


def article_with_images(inline=1, **fields):
    featured = library_image(
        2000,
        1200,
        alt_text="Hairline after the second session",
        caption="Two weeks on",
        credit="Photo: the clinic, CC BY 4.0",
    )
    inlines = [library_image(1000 + index, 600, alt_text=f"Detail {index}") for index in range(inline)]
    body = "Intro paragraph.\n\n" + "\n\n".join(f"![](image:{image.pk})" for image in inlines)
    article = ArticleFactory(body=body, featured_image=featured, **fields)
    article.save()
    return article, featured, inlines


def test_article_page_shows_the_featured_image_first_and_inline_figures_as_pictures(client):
    article, _featured, (_inline,) = article_with_images()

    page = client.get(article.get_absolute_url()).content.decode()

    pictures = re.findall(r"<picture>.*?</picture>", page)
    assert len(pictures) == 2
    first, second = pictures
    assert 'type="image/avif"' in first and 'type="image/webp"' in first
    assert 'fetchpriority="high"' in first and 'loading="lazy"' not in first
    assert 'alt="Hairline after the second session"' in first
    assert 'width="1600" height="960"' in first
    assert 'loading="lazy"' in second and 'decoding="async"' in second
    assert 'alt="Detail 0"' in second  # an empty ![]() takes the image's own alt text
    assert "Two weeks on" in page and "Photo: the clinic, CC BY 4.0" in page
    assert re.search(r"<figure[^>]*>\s*<picture>", page)
    assert "<p><figure" not in page


def test_inline_alt_text_written_by_the_editor_replaces_the_image_own(client):
    image = library_image(alt_text="Library alt")
    article = ArticleFactory(body=f"![Blue tint of ink placed too deep](image:{image.pk})")

    page = client.get(article.get_absolute_url()).content.decode()

    assert 'alt="Blue tint of ink placed too deep"' in page
    assert 'alt="Library alt"' not in page


def test_srcset_offers_every_width_and_sizes_matches_the_reading_column(client):
    article, _featured, _ = article_with_images(inline=0)

    page = client.get(article.get_absolute_url()).content.decode()

    srcset = re.search(r'<source type="image/avif" srcset="([^"]+)"', page).group(1)
    assert [item.split()[1] for item in srcset.split(", ")] == ["480w", "960w", "1600w"]
    assert 'sizes="(min-width: 48rem) 45rem, 100vw"' in page


def test_link_previews_and_structured_data_carry_the_featured_image(client):
    article, featured, _ = article_with_images(inline=0)

    response = client.get(article.get_absolute_url())
    page = response.content.decode()

    largest = featured.largest()
    url = f"http://testserver/media/{largest['name']}"
    assert f'<meta property="og:image" content="{url}">' in page
    assert '<meta property="og:image:width" content="1600">' in page
    assert '<meta property="og:image:height" content="960">' in page
    assert '<meta property="og:image:alt" content="Hairline after the second session">' in page
    assert '<meta name="twitter:card" content="summary_large_image">' in page
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    assert data["image"] == {
        "@type": "ImageObject",
        "url": url,
        "contentUrl": url,
        "width": 1600,
        "height": 960,
        "encodingFormat": "image/jpeg",
        "caption": "Hairline after the second session",
    }


def test_article_without_an_image_keeps_the_plain_summary_card(client, article):
    page = client.get(article.get_absolute_url()).content.decode()

    assert '<meta name="twitter:card" content="summary">' in page
    assert "og:image" not in page and "<picture>" not in page


def test_home_and_search_show_the_featured_image_as_a_small_thumbnail(client):
    _article, _featured, _ = article_with_images(inline=0, title="Healing redness")

    for url in ("/", "/search/?q=redness"):
        page = client.get(url).content.decode()
        thumbnail = re.search(r'<div class="teaser-thumbnail">(.*?)</div>', page, re.S).group(1)
        assert 'sizes="8rem"' in thumbnail
        assert "1600w" not in thumbnail  # a thumbnail never offers the large files


def test_side_effect_shows_its_own_image(client):
    image = library_image(alt_text="Redness one day after")
    article = ArticleFactory(side_effects=1)
    effect = article.side_effects.get()
    effect.image = image
    effect.save()

    page = client.get(article.get_absolute_url()).content.decode()

    section = re.search(r'<section class="side-effect".*?</section>', page, re.S).group(0)
    assert 'alt="Redness one day after"' in section


def test_article_page_queries_stay_within_budget_with_twenty_images(client, django_assert_max_num_queries):
    plain = ArticleFactory()
    illustrated, _, _ = article_with_images(inline=20)

    with django_assert_max_num_queries(5):
        response = client.get(illustrated.get_absolute_url())
    assert response.content.decode().count("<picture>") == 21
    assert count_uncached_queries(client, illustrated.get_absolute_url()) == count_uncached_queries(
        client, plain.get_absolute_url()
    )


def test_home_page_queries_stay_within_budget_with_thumbnails(client, django_assert_max_num_queries):
    for index in range(5):
        article_with_images(inline=0, slug=f"illustrated-{index}")

    with django_assert_max_num_queries(3):
        response = client.get("/")
    assert response.content.decode().count('class="teaser-thumbnail"') == 5


def test_page_view_processes_no_image(client, monkeypatch):
    article, _, _ = article_with_images()
    monkeypatch.setattr(Pillow, "open", lambda *a, **k: pytest.fail("an image was opened in a page view"))

    assert client.get(article.get_absolute_url()).status_code == 200


# Editing articles with images -----------------------------------------------------------


def test_unknown_inline_image_is_an_error_that_names_it_and_keeps_the_text(editor_client):
    data = admin_article_form_data(body="Look:\n\n![redness](image:999)\n\n![x](image:abc)")

    response = editor_client.post("/admin/articles/article/add/", data)

    page = response.content.decode()
    assert "No such image in the library: image:999, image:abc" in page
    assert "![redness](image:999)" in page
    assert not Article.objects.exists()


def test_unknown_image_in_a_side_effect_description_is_an_error(editor_client):
    data = admin_article_form_data()
    data["side_effects-0-description"] = "See ![](image:4242)"

    response = editor_client.post("/admin/articles/article/add/", data)

    assert "No such image in the library: image:4242" in response.content.decode()
    assert not Article.objects.exists()


def test_editor_sets_a_featured_image_and_embeds_another_in_the_admin(editor_client, client):
    featured = library_image(alt_text="Featured")
    inline = library_image(900, 600, alt_text="Inline")
    data = admin_article_form_data(body=f"Text.\n\n![]( image:{inline.pk})", featured_image=str(featured.pk))

    editor_client.post("/admin/articles/article/add/", data)

    article = Article.objects.get()
    assert set(article.image_links.values_list("image_id", flat=True)) == {featured.pk, inline.pk}
    page = client.get(article.get_absolute_url()).content.decode()
    assert 'alt="Featured"' in page and 'alt="Inline"' in page


def test_image_shown_on_a_page_cannot_be_deleted_and_the_admin_lists_the_pages(editor_client):
    _article, featured, _ = article_with_images(inline=0, title="Healing week by week")

    response = editor_client.post(f"/admin/images/image/{featured.pk}/delete/", {"post": "yes"})

    assert Image.objects.filter(pk=featured.pk).exists()
    assert "Healing week by week" in response.content.decode()


def test_unused_image_is_deleted_with_its_files(editor_client, settings):
    image = library_image()
    assert stored_files(settings)

    with pytest.MonkeyPatch.context():
        response = editor_client.post(f"/admin/images/image/{image.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Image.objects.exists()


def test_changing_alt_text_or_caption_refreshes_cached_pages_that_show_the_image(
    editor_client, client, django_capture_on_commit_callbacks
):
    article, featured, (inline,) = article_with_images()
    assert "Detail 0" in client.get(article.get_absolute_url()).content.decode()  # now cached

    with django_capture_on_commit_callbacks(execute=True):  # the pages are retired on commit
        editor_client.post(
            f"/admin/images/image/{inline.pk}/change/",
            {"alt_text": "Blue dots two months on", "caption": "Ink placed too deep", "credit": ""},
        )
        editor_client.post(
            f"/admin/images/image/{featured.pk}/change/",
            {"alt_text": "New featured alt", "caption": "", "credit": ""},
        )

    page = client.get(article.get_absolute_url()).content.decode()
    assert 'alt="Blue dots two months on"' in page and "Ink placed too deep" in page
    assert 'alt="New featured alt"' in page and "Detail 0" not in page
    home = client.get("/").content.decode()
    assert 'alt="New featured alt"' in home


def test_image_library_lists_thumbnails_and_where_each_image_is_used(
    editor_client, django_assert_max_num_queries
):
    _article, _featured, _inlines = article_with_images(inline=3, title="Healing week by week")
    library_image(alt_text="Unused one")

    with django_assert_max_num_queries(10):
        response = editor_client.get("/admin/images/image/")
    page = response.content.decode()
    assert page.count("<picture>") == 5
    assert "Healing week by week (published)" in page
    assert "Not used" in page
    assert editor_client.get("/admin/images/image/?q=Unused").content.decode().count("<picture>") == 1


# Consent --------------------------------------------------------------------------------


def test_a_person_without_recorded_consent_cannot_be_published(editor_client):
    patient = library_image(alt_text="A patient's hairline", shows_person=True)
    data = admin_article_form_data(featured_image=str(patient.pk))

    response = editor_client.post("/admin/articles/article/add/", data)

    assert "show a person whose consent is not recorded" in response.content.decode()
    assert not Article.objects.exists()
    editor_client.post("/admin/articles/article/add/", {**data, "status": "draft"})
    assert Article.objects.get().status == "draft"


def test_a_side_effect_image_without_consent_keeps_the_article_a_draft(editor_client):
    patient = library_image(alt_text="A patient's scalp", shows_person=True)
    data = admin_article_form_data()
    data["side_effects-0-image"] = str(patient.pk)

    response = editor_client.post("/admin/articles/article/add/", data, follow=True)

    assert "Saved as a draft, not published" in response.content.decode()
    assert Article.objects.get().status == "draft"


def test_recorded_consent_lets_the_page_show_the_person(editor_client, client):
    patient = library_image(alt_text="A patient's hairline", shows_person=True)
    editor_client.post(
        f"/admin/images/image/{patient.pk}/change/",
        {
            "alt_text": "A patient's hairline",
            "shows_person": "on",
            "consent_date": "2026-11-02",
            "consent_reference": "Consent form 2026-114",
        },
    )

    editor_client.post(
        "/admin/articles/article/add/", admin_article_form_data(featured_image=str(patient.pk))
    )

    article = Article.objects.get()
    assert article.status == "published"
    assert "A patient&#x27;s hairline" in client.get(article.get_absolute_url()).content.decode()


def test_consent_cannot_be_removed_from_an_image_a_published_page_shows(editor_client):
    patient = library_image(
        alt_text="Hairline", shows_person=True, consent_date="2026-11-02", consent_reference="Form 7"
    )
    ArticleFactory(featured_image=patient, title="Case study").save()

    response = editor_client.post(
        f"/admin/images/image/{patient.pk}/change/",
        {"alt_text": "Hairline", "shows_person": "on", "consent_date": "", "consent_reference": ""},
    )

    assert "published pages show it: Case study (published)" in response.content.decode()
    assert Image.objects.get(pk=patient.pk).consent_reference == "Form 7"


def test_publish_action_refuses_an_article_showing_a_person_without_consent(editor_client):
    patient = library_image(alt_text="Hairline", shows_person=True)
    draft = ArticleFactory(status="draft", featured_image=patient, title="Draft case")
    draft.save()

    response = editor_client.post(
        "/admin/articles/article/",
        {"action": "publish_articles", "_selected_action": [draft.pk]},
        follow=True,
    )

    assert "show a person whose consent is not recorded: “Draft case”" in response.content.decode()
    assert Article.objects.get(pk=draft.pk).status == "draft"


# Serving files --------------------------------------------------------------------------


def test_stored_files_are_served_immutable_with_their_type_and_nosniff(client):
    image = library_image()

    for rendition in image.renditions:
        response = client.get(f"/media/{rendition['name']}")
        assert response.status_code == 200
        assert (
            response["Content-Type"]
            == {"avif": "image/avif", "webp": "image/webp", "jpeg": "image/jpeg"}[rendition["format"]]
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == "public, max-age=31536000, immutable"
        assert b"".join(response.streaming_content) == default_storage.open(rendition["name"]).read()


@pytest.mark.parametrize(
    "path",
    [
        "/media/../smpinfo/settings.py",
        "/media/images/../../manage.py",
        "/media/%2e%2e/manage.py",
        "/media/images/0123456789abcdef0123-480.html",
        "/media/images/0123456789abcdef0123-480.jpg",
        "/media/.secret_key",
        "/media/images/%2F..%2F..%2Fmanage.py",
    ],
)
def test_nothing_but_stored_images_is_served(client, path):
    library_image()

    assert client.get(path).status_code == 404


def test_frames_of_an_animation_are_counted_not_guessed():
    assert len(list(ImageSequence.Iterator(Pillow.open(io.BytesIO(gif_frames(3)))))) == 3


def test_article_image_links_follow_the_content(client):
    article, featured, (inline,) = article_with_images()
    assert set(ArticleImage.objects.values_list("image_id", flat=True)) == {featured.pk, inline.pk}

    article.body = "No pictures now."
    article.featured_image = None
    article.save()

    assert not ArticleImage.objects.exists()


def test_deploy_refresh_renders_embedded_images_again_from_the_current_templates(client):
    article, _featured, (inline,) = article_with_images()
    # As after a deploy that changed how pictures are written: stored content of another template.
    Image.objects.filter(pk=inline.pk).update(alt_text="Written by the new template")
    Article.objects.filter(pk=article.pk).update(content_revision="older")

    call_command("refresh_article_content", stdout=io.StringIO())

    page = client.get(article.get_absolute_url()).content.decode()
    assert 'alt="Written by the new template"' in page


def test_full_content_feed_gives_images_absolute_addresses(client):
    _article, featured, _ = article_with_images(inline=0)

    response = client.get("/feed/atom/")

    assert not feedparser.parse(response.content).bozo
    content = html.unescape(response.content.decode())  # the entry's HTML, as readers get it
    largest = featured.largest()["name"]
    assert f'src="http://testserver/media/{largest}"' in content
    assert 'srcset="http://testserver/media/images/' in content
    assert 'srcset="/media/' not in content and 'src="/media/' not in content


def test_editors_keep_the_image_library_and_moderators_only_see_it(moderator_client):
    from django.contrib.auth.models import Group

    def codenames(group):
        permissions = Group.objects.get(name=group).permissions.filter(content_type__app_label="images")
        return set(permissions.values_list("codename", flat=True))

    assert codenames("Editors") == {"add_image", "change_image", "delete_image", "view_image"}
    assert codenames("Moderators") == {"view_image"}
    image = library_image()
    assert moderator_client.get("/admin/images/image/").status_code == 200
    assert moderator_client.get(UPLOAD_URL).status_code == 403
    moderator_client.post(f"/admin/images/image/{image.pk}/change/", {"alt_text": "Changed"})
    assert Image.objects.get(pk=image.pk).alt_text != "Changed"


def test_a_new_media_url_is_rendered_into_every_article_at_the_next_deploy(client, settings):
    article, featured, _ = article_with_images(inline=1)

    settings.MEDIA_URL = "https://images.example.org/smp/"
    call_command("refresh_article_content", stdout=io.StringIO())

    page = client.get(article.get_absolute_url()).content.decode()
    assert f'src="https://images.example.org/smp/{featured.largest()["name"]}"' in page
    assert 'srcset="/media/' not in page and 'src="/media/' not in page


def test_an_old_version_that_showed_a_since_deleted_image_opens_and_says_what_is_missing(editor_client):
    gone = library_image(alt_text="Deleted later")
    editor_client.post(
        "/admin/articles/article/add/",
        admin_article_form_data(featured_image=str(gone.pk), body=f"Text.\n\n![](image:{gone.pk})"),
    )
    article = Article.objects.get()
    editor_client.post(
        f"/admin/articles/article/{article.pk}/change/",
        admin_article_form_data(article, featured_image="", body="Text."),
    )
    Image.objects.get(pk=gone.pk).delete()  # no page shows it any more
    older = min(Version.objects.get_for_object(article), key=lambda version: version.pk)

    response = editor_client.get(f"/admin/articles/article/{article.pk}/history/{older.pk}/")

    assert response.status_code == 200
    assert Article.objects.get(pk=article.pk).featured_image_id is None  # nothing restored by looking
