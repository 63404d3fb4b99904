"""docs/plugins.md documents every hook with its signature, and shows the example plugin as it really is."""
import inspect
import re
from pathlib import Path

import pytest

from lstmcore import hookspecs

REPO = Path(__file__).resolve().parents[1]
GUIDE = (REPO / "docs" / "plugins.md").read_text()


def signature_of(hook_name):
    """`name(arg: annotation) -> return`, as written in lstmcore/hookspecs.py."""
    signature = inspect.signature(getattr(hookspecs, hook_name))
    params = ", ".join(f"{p.name}: {p.annotation}" for p in signature.parameters.values())
    return f"{hook_name}({params}) -> {signature.return_annotation}"


@pytest.mark.parametrize("hook_name", sorted(hookspecs.HOOK_KINDS))
def test_every_hook_is_documented_with_its_signature(hook_name):
    assert f"### {hook_name}\n" in GUIDE
    assert f"`{signature_of(hook_name)}`" in GUIDE


def test_no_documented_hook_is_missing_from_the_hookspecs():
    documented = set(re.findall(r"^### (register_\w+)$", GUIDE, flags=re.MULTILINE))
    assert documented == set(hookspecs.HOOK_KINDS)


def test_every_hookspec_has_a_one_sentence_docstring():
    for hook_name in hookspecs.HOOK_KINDS:
        doc = inspect.getdoc(getattr(hookspecs, hook_name))
        assert doc and doc.endswith(".") and doc.count(". ") == 0, hook_name


def test_guide_shows_the_example_plugin_files_exactly():
    blocks = re.findall(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", GUIDE, flags=re.DOTALL)
    assert {path for path, _ in blocks} >= {"examples/lstmcore-example-plugin/pyproject.toml",
                                            "examples/lstmcore-example-plugin/lstmcore_example/__init__.py"}
    for path, text in blocks:
        assert (REPO / path).read_text() == text, f"docs/plugins.md is out of date with {path}"


def test_guide_walks_through_entry_point_install_and_listing():
    for step in ("[project.entry-points.lstmcore]", "pip install", "lstmcore plugins",
                 "LSTMCORE_DISABLE_PLUGIN_AUTOLOAD", "LSTMCORE_DISABLE_PLUGINS", "LSTMCORE_TRACE_PLUGINS", "-p"):
        assert step in GUIDE
