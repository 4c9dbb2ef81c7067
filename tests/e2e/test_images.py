"""An editor uploads two photographs to the image library, features one on an article and
embeds the other in its text, and publishes it; a reader on a phone gets small renditions,
with the pictures' places kept while they load."""

import re

import pytest
from playwright.sync_api import expect

from images.models import Image
from tests.factories import ArticleFactory
from tests.pictures import library_image, picture_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "What a healed hairline looks like"
SLUG = "what-a-healed-hairline-looks-like"
FEATURED_ALT = "Hairline three weeks after the second session"
INLINE_ALT = "Close-up of the pigment dots at the temple"
# A phone: 375 CSS pixels across at twice the density, so a picture as wide as the screen
# needs 750 device pixels: the 960-pixel rendition, never the 1,600-pixel one.
PHONE = {"viewport": {"width": 375, "height": 740}, "device_scale_factor": 2}
IMAGE_FILES = "**/media/images/**"
STYLES_APPLIED = """() => Array.from(document.querySelectorAll('link[rel="stylesheet"]'))
  .every((link) => link.sheet)"""

# Sums the layout shifts the page has had (buffered: from its start), as Cumulative Layout
# Shift counts them: shifts just after a person's input are left out.
LAYOUT_SHIFT_OBSERVER = """() => {
  window.layoutShifts = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (!entry.hadRecentInput) {
        window.layoutShifts.push({
          value: entry.value,
          sources: (entry.sources || []).map((source) => source.node ? source.node.nodeName : "?"),
        });
      }
    }
  }).observe({type: "layout-shift", buffered: true});
}"""
PICTURE_BOXES = """() => Array.from(document.querySelectorAll("main picture img"), (img) => {
  const box = img.getBoundingClientRect();
  return {
    alt: img.alt,
    width: img.getAttribute("width"),
    height: img.getAttribute("height"),
    boxWidth: box.width,
    boxHeight: box.height,
    top: box.top + window.scrollY,
    complete: img.complete,
    naturalWidth: img.naturalWidth,
    currentSrc: img.currentSrc,
  };
})"""


def upload_image(editor, path, alt_text, caption="", credit=""):
    """Upload `path` through the library's add form; returns the new image's number."""
    editor.goto("/admin/images/image/add/")
    editor.locator("#id_upload").set_input_files(path)
    editor.locator("#id_alt_text").fill(alt_text)
    editor.locator("#id_caption").fill(caption)
    editor.locator("#id_credit").fill(credit)
    editor.locator("input[name='_continue']").click()
    expect(editor.locator(".messagelist")).to_contain_text("was added successfully")
    number = int(re.search(r"/admin/images/image/(\d+)/change/", editor.url).group(1))
    expect(editor.locator(".field-size")).to_contain_text("×")  # made from the file sent
    return number


def media_path(rendition):
    return f"/media/{rendition['name']}"


def test_reader_on_a_phone_gets_small_renditions_of_the_images_an_editor_added(
    staff_page, new_context, screenshot, tmp_path
):
    featured_file, inline_file = tmp_path / "hairline.jpg", tmp_path / "temple.jpg"
    featured_file.write_bytes(picture_bytes(2000, 1333))
    inline_file.write_bytes(picture_bytes(1800, 1200))

    editor = staff_page("editor", "Editors")
    featured = upload_image(
        editor, featured_file, FEATURED_ALT, caption="Three weeks on", credit="Photo: the clinic, CC BY 4.0"
    )
    screenshot(editor, "uploaded")

    editor.goto("/admin/articles/article/add/")
    editor.locator("#id_title").fill(TITLE)
    editor.locator("#id_summary").fill("The hairline after healing, and the dots up close.")
    expect(editor.locator("#id_slug")).to_have_value(SLUG)
    editor.locator("#id_body").fill("The pigment settles over three weeks.")
    editor.locator("#id_featured_image").fill(str(featured))  # the raw-id input: the image's number
    editor.locator("#id_status").select_option(label="Draft")
    editor.locator("input[name='_continue']").click()
    expect(editor.locator(".messagelist")).to_contain_text("was added successfully")
    article_change = editor.url
    expect(editor.locator(".field-featured_image")).to_contain_text(FEATURED_ALT)  # the widget names it

    inline = upload_image(editor, inline_file, INLINE_ALT, caption="The dots up close")
    editor.goto(article_change)
    editor.locator("#id_body").fill(
        f"The pigment settles over three weeks.\n\n![{INLINE_ALT}](image:{inline})\n\n"
        "Each dot is smaller than a hair follicle."
    )
    editor.locator("#id_status").select_option(label="Published")
    editor.locator("input[name='_save']").click()
    editor.wait_for_url("**/admin/articles/article/")
    expect(editor.locator(".messagelist")).to_contain_text("was changed successfully")

    small_featured = next(
        r for r in Image.objects.get(pk=featured).renditions if r["format"] == "avif" and r["width"] == 960
    )
    inline_renditions = {media_path(r): r for r in Image.objects.get(pk=inline).renditions}

    reader = new_context(**PHONE).new_page()
    reader.add_init_script(f"({LAYOUT_SHIFT_OBSERVER})()")
    fetched = []
    reader.on("response", lambda response: fetched.append(response.url))
    # The image files are held back until the page has been laid out without them, so that
    # a place not kept for a picture would show as a shift when it arrives.
    held = []
    holding = [True]
    reader.route(IMAGE_FILES, lambda route: held.append(route) if holding[0] else route.continue_())
    assert reader.goto(f"/articles/{SLUG}/", wait_until="domcontentloaded").status == 200
    expect(reader.get_by_role("heading", level=1)).to_have_text(TITLE)
    for _ in range(100):
        if held:
            break
        reader.wait_for_timeout(50)
    assert held, "the featured image was never asked for"
    # Laid out with the site's styles (the load event, which waits for the pictures, cannot be awaited).
    reader.wait_for_function(STYLES_APPLIED)
    reader.evaluate("() => document.fonts.ready.then(() => true)")
    before = reader.evaluate(PICTURE_BOXES)

    assert [box["alt"] for box in before] == [FEATURED_ALT, INLINE_ALT]
    for box in before:
        assert box["width"] and box["height"], f"{box['alt']}: no width and height to keep its place"
        assert box["naturalWidth"] == 0, f"{box['alt']} arrived although it was held back"
        ratio = int(box["width"]) / int(box["height"])
        assert box["boxWidth"] <= 375
        assert box["boxHeight"] == pytest.approx(box["boxWidth"] / ratio, abs=1), (
            f"{box['alt']}: its place is not kept before the file arrives: {box}"
        )

    holding[0] = False
    for route in held:
        route.continue_()
    featured_img = reader.get_by_role("img", name=FEATURED_ALT)
    inline_img = reader.get_by_role("img", name=INLINE_ALT)
    expect(featured_img).to_have_attribute("fetchpriority", "high")
    expect(inline_img).to_have_attribute("loading", "lazy")
    for img in (featured_img, inline_img):
        img.scroll_into_view_if_needed()
        expect(img).to_be_visible()
        reader.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    reader.wait_for_load_state("load")
    reader.evaluate("() => window.scrollTo(0, 0)")
    after = reader.evaluate(PICTURE_BOXES)
    screenshot(reader, "phone")

    expect(reader.locator("figure").filter(has=featured_img)).to_contain_text("Three weeks on")
    expect(reader.locator("figure").filter(has=inline_img)).to_contain_text("The dots up close")
    featured_after, inline_after = after
    assert featured_after["currentSrc"].endswith(media_path(small_featured)), featured_after
    inline_chosen = inline_renditions[re.sub(r"^https?://[^/]+", "", inline_after["currentSrc"])]
    assert inline_chosen["format"] == "avif" and inline_chosen["width"] <= 960, inline_chosen
    for box_before, box_after in zip(before, after, strict=True):
        assert (box_after["boxWidth"], box_after["boxHeight"]) == pytest.approx(
            (box_before["boxWidth"], box_before["boxHeight"]), abs=1
        ), f"{box_after['alt']} changed size when its file arrived"

    image_files = [url for url in fetched if "/media/images/" in url]
    assert any(url.endswith(media_path(small_featured)) for url in image_files), image_files
    assert not [url for url in image_files if re.search(r"-1600\.\w+$", url)], image_files
    assert not [url for url in image_files if not url.endswith(".avif")], image_files
    assert len(image_files) == 2, image_files  # one file a picture, the one it shows

    shifts = reader.evaluate("() => window.layoutShifts")
    assert sum(shift["value"] for shift in shifts) < 0.01, shifts


def test_picture_within_a_sentence_fits_a_phone(new_context, screenshot):
    """An image embedded inside a paragraph's text (a <picture> without its own <figure>)
    is no wider than the column, as a figure is."""
    image = library_image(1800, 1200, alt_text="Pigment dots under a lens")
    article = ArticleFactory(body=f"Seen closer ![dots under a lens](image:{image.pk}) they are separate.")
    reader = new_context(**PHONE).new_page()
    reader.goto(article.get_absolute_url())
    picture = reader.get_by_role("img", name="dots under a lens")
    expect(picture).to_be_visible()
    screenshot(reader, "phone")
    scroll_width, inner_width, picture_width = reader.evaluate(
        "(img) => [document.documentElement.scrollWidth, innerWidth, img.getBoundingClientRect().width]",
        picture.element_handle(),
    )
    assert picture_width <= inner_width, f"the picture is {picture_width}px wide on a {inner_width}px screen"
    assert scroll_width <= inner_width, f"the page is {scroll_width}px wide on a {inner_width}px screen"
