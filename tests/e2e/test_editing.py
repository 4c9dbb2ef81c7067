"""An editor writes a draft in the admin, previews it on the site, then publishes it for readers."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Caring for your scalp in the first week"
SLUG = "caring-for-your-scalp-in-the-first-week"
SIDE_EFFECTS = [("Redness", "Very common", "A day or two"), ("Flaking", "Common", "About a week")]


def test_editor_previews_a_draft_then_publishes_it_for_readers(staff_page, new_context, screenshot):
    editor = staff_page("editor", "Editors")
    editor.goto("/admin/articles/article/add/")
    editor.locator("#id_title").fill(TITLE)
    editor.locator("#id_summary").fill("What to do, and what to avoid, while the pigment settles.")
    expect(editor.locator("#id_slug")).to_have_value(SLUG)  # filled in from the title by the admin
    editor.locator("#id_body").fill("Keep the scalp dry for **four days**.\n\n## Washing\n\nUse cool water.")
    editor.locator("#id_status").select_option(label="Draft")
    for index, (name, frequency, duration) in enumerate(SIDE_EFFECTS):
        editor.get_by_role("button", name="Add another Side effect").click()
        editor.locator(f"#id_side_effects-{index}-name").fill(name)
        editor.locator(f"#id_side_effects-{index}-order").fill(str(index + 1))
        editor.locator(f"#id_side_effects-{index}-frequency").fill(frequency)
        editor.locator(f"#id_side_effects-{index}-duration").fill(duration)
        editor.locator(f"#id_side_effects-{index}-description").fill(f"About {name.lower()}.")
        editor.locator(f"#id_side_effects-{index}-advice").fill("Leave it alone.")
    editor.locator("input[name='_continue']").click()
    expect(editor.locator(".messagelist")).to_contain_text("was added successfully")
    change_url = editor.url

    editor.locator(".object-tools").get_by_role("link", name="View on site").click()
    editor.wait_for_url(f"**/articles/{SLUG}/")
    expect(editor.get_by_text("Preview: not visible to readers.")).to_be_visible()
    expect(editor.get_by_role("heading", level=1)).to_have_text(TITLE)
    for name, _, _ in SIDE_EFFECTS:
        expect(editor.get_by_role("heading", level=2, name=name, exact=True)).to_be_visible()
    screenshot(editor, "draft-preview")

    reader = new_context().new_page()
    assert reader.goto(f"/articles/{SLUG}/").status == 404  # a draft is the editor's alone

    editor.go_back()
    editor.wait_for_url(change_url)
    editor.locator("#id_status").select_option(label="Published")
    editor.locator("input[name='_save']").click()
    editor.wait_for_url("**/admin/articles/article/")
    expect(editor.locator(".messagelist")).to_contain_text("was changed successfully")

    reader.goto("/")
    reader.get_by_role("link", name=TITLE, exact=True).click()
    reader.wait_for_url(f"**/articles/{SLUG}/")
    expect(reader.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(reader.get_by_text("Preview: not visible to readers.")).to_have_count(0)
    expect(reader.get_by_role("region", name="Side effects at a glance")).to_contain_text("Flaking")
    screenshot(reader)
