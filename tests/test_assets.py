"""Static files carry versioned URLs kept for a year, pages and scripts are compressed."""

from app.core.templating import static_url


async def test_a_versioned_static_url_is_kept_for_a_year_and_any_other_is_checked_again(client):
    versioned = await client.get(static_url("css/app.css"))
    assert versioned.status_code == 200
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    for other in ("/static/css/app.css", "/static/css/app.css?v=0123456789"):
        answer = await client.get(other)
        assert answer.status_code == 200 and answer.headers["cache-control"] == "no-cache", other


async def test_pages_and_scripts_are_compressed_for_browsers_that_accept_it(client):
    for path in ("/", static_url("vendor/htmx-2.0.11/htmx.min.js"), static_url("js/app.js")):
        answer = await client.get(path, headers={"Accept-Encoding": "gzip"})
        assert answer.headers.get("content-encoding") == "gzip", path
    plain = await client.get("/", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and "<html" in plain.text
