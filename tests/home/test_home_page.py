import pytest

pytestmark = pytest.mark.django_db


def test_product_language_is_chinese():
    from academy.settings import base

    assert base.LANGUAGE_CODE == "zh-hans"
    assert base.TIME_ZONE == "Asia/Shanghai"


def test_home_page_renders_in_chinese_by_default(client, home_page, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "计量伙伴学院" in html
    assert "登录" in html


def test_home_page_in_english_when_chosen(client, home_page, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Log in" in html


def test_chinese_even_for_an_english_browser(client, home_page, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in html
