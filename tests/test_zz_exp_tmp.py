import pytest
from articles.models import Reference
from tests.factories import ArticleFactory, ReferenceFactory, admin_article_form_data, inline_form_data, reference_form_row

pytestmark = pytest.mark.django_db

def test_exp(editor_client, article):
    for doi in ["https://doi.org/10.1000/xyz", "doi:10.1000/xyz", "10.1000/xyz"]:
        data = admin_article_form_data(article, body="Cites [@smith2020].", **inline_form_data("references", [reference_form_row(key="smith2020", title="T", doi=doi)]))
        r = editor_client.post(f"/admin/articles/article/{article.pk}/change/", data)
        print(doi, r.status_code, list(Reference.objects.values_list("doi", flat=True)))
        if r.status_code == 200:
            import re
            print(re.findall(r'<ul class="errorlist[^"]*"[^>]*>.*?</ul>', r.content.decode(), re.S))
        Reference.objects.all().delete()

def test_exp_delete_readd(editor_client, article):
    ref = ReferenceFactory(article=article, key="k1")
    article.body = "[@k1]"; article.save()
    rows = [reference_form_row(ref, DELETE="on"), reference_form_row(key="k1", title="New")]
    data = admin_article_form_data(article, **inline_form_data("references", rows))
    r = editor_client.post(f"/admin/articles/article/{article.pk}/change/", data)
    print(r.status_code)
    import re
    print(re.findall(r'<ul class="errorlist[^"]*"[^>]*>.*?</ul>', r.content.decode(), re.S))
