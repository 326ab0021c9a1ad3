"""The templates' environment: compiled templates are shared by every environment of the process."""

import shutil

from jinja2 import Environment, FileSystemLoader

from app.core import i18n, templating
from app.core.config import Settings
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


def test_translations_in_templates_escape_their_variables_and_keep_percent_signs(tmp_path):
    """The templates' ``_`` and ``ngettext``: a variable is escaped into the translation, ``%%``
    reads as ``%`` with or without variables, a text template is not escaped, and the reader's
    language is followed from one call to the next (the translation without variables is kept)."""
    env = create_environment(Settings(_env_file=None))
    page = env.from_string(
        '{{ _("Reply") }}|{{ _("%(actor)s asks to join %(workspace)s.", actor=who, workspace="W") }}'
        '|{{ _("100%% green") }}|{{ ngettext("%(num)s comment", "%(num)s comments", 2) }}'
    )
    i18n.set_context("en")
    assert page.render(who="<b>Ann</b>") == (
        "Reply|&lt;b&gt;Ann&lt;/b&gt; asks to join W.|100% green|2 comments"
    )
    i18n.set_context("zh")
    try:
        rendered = page.render(who="<b>Ann</b>")
        assert rendered.startswith("回复|&lt;b&gt;Ann&lt;/b&gt;")
        assert rendered.endswith("|100% green|2 条评论")
    finally:
        i18n.set_context("en")
    text = Environment(extensions=["jinja2.ext.i18n"], autoescape=False)  # noqa: S701 (a text template)
    text.globals.update(create_environment(Settings(_env_file=None)).globals)
    assert text.from_string(
        '{{ _("%(actor)s asks to join %(workspace)s.", actor="<b>", workspace="W") }}'
    ).render() == ("<b> asks to join W.")
