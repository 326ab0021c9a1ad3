"""The templates' environment: compiled templates are shared by every environment of the process."""

import shutil

from jinja2 import FileSystemLoader

from app.core import templating
from app.core.templating import ProcessBytecodeCache, create_environment
from tests.conftest import make_settings


def test_a_second_app_reuses_the_compiled_templates_and_an_edited_one_is_compiled_again(
    tmp_path, monkeypatch
):
    shutil.copy(templating.TEMPLATES_DIR / "errors" / "_inline.html", tmp_path / "page.html")
    cache = ProcessBytecodeCache()  # the process's own, as create_environment gives it, but empty
    compiled = []

    def environment():
        env = create_environment(make_settings("sqlite+aiosqlite://"))
        env.bytecode_cache = cache
        env.loader = FileSystemLoader(tmp_path)
        original = env._compile
        env._compile = lambda source, filename: compiled.append(filename) or original(source, filename)
        return env

    assert "Saved." in environment().get_template("page.html").render(message="Saved.")
    assert len(compiled) == 1
    assert "Saved." in environment().get_template("page.html").render(message="Saved.")
    assert len(compiled) == 1  # the second environment took the first one's code
    (tmp_path / "page.html").write_text("<p>{{ message }} again</p>")
    assert environment().get_template("page.html").render(message="Saved.") == "<p>Saved. again</p>"
    assert len(compiled) == 2
