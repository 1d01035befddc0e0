import pytest


@pytest.mark.django_db
def test_articles_list_is_empty_on_a_new_site(api):
    response = api.get("/api/articles")
    assert response.status_code == 200
    assert response.json() == {"articles": [], "articlesCount": 0}
