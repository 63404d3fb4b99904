"""The plugin manager: hooks register and unregister; duplicate, broken, disabled and explicit plugins."""
import importlib.metadata
import json
import sys
import textwrap
import types

import pytest

import lstmcore
from lstmcore import plugins, registry
from lstmcore.errors import PluginError
from lstmcore.testing import fresh_plugin_manager, registered_plugin


class LossPlugin:
    """A plugin object registering one loss and one task."""

    @lstmcore.hookimpl
    def register_losses(self, register):
        register("test-squared", lambda y_true, y_pred: (y_true - y_pred) ** 2)


@pytest.fixture
def plugin_modules(tmp_path, monkeypatch):
    """Write plugin modules into a folder on sys.path; returns a function name, source -> module name."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(name, source):
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        sys.modules.pop(name, None)
        return name

    yield write


@pytest.fixture
def fake_entry_points(monkeypatch):
    """Make the manager see the given (name, module) pairs as the `lstmcore` entry points."""
    def install(*pairs):
        points = [importlib.metadata.EntryPoint(name, value, "lstmcore") for name, value in pairs]
        monkeypatch.setattr(plugins, "_entry_points", lambda: points)
    return install


GOOD_PLUGIN = """
    import lstmcore
    from lstmcore.tasks import Task

    class GoodTask(Task):
        name = "good-task"

    @lstmcore.hookimpl
    def register_tasks(register):
        register("good-task", GoodTask())
"""


def test_core_plugin_registers_core_components_through_hooks():
    with fresh_plugin_manager():
        assert registry.tasks.owner("sequence-classification") == "lstmcore"
        assert {"fasta", "csv", "tsv", "npz"} <= set(registry.readers)
        assert {"dna", "rna", "protein"} <= set(registry.encoders)
        assert {"tsv", "csv"} <= set(registry.writers)
        assert "mse" in registry.losses and "accuracy" in registry.metrics and "adam" in registry.optimizers
        assert {"train", "predict", "evaluate", "demo", "plugins", "show-config"} <= set(registry.commands)


def test_hookimpl_is_exported_at_top_level():
    assert lstmcore.hookimpl is lstmcore.hookspecs.hookimpl


def test_plugin_registers_and_unregisters():
    with fresh_plugin_manager():
        with registered_plugin(LossPlugin(), "loss-plugin"):
            assert registry.losses.owner("test-squared") == "loss-plugin"
            assert "loss-plugin" in [r.name for r in plugins.plugin_reports()]
        assert "test-squared" not in registry.losses
        assert "loss-plugin" not in [r.name for r in plugins.plugin_reports()]


def test_registered_loss_is_found_by_compile_name():
    with fresh_plugin_manager(), registered_plugin(LossPlugin(), "loss-plugin"):
        assert registry.losses.get("TEST-SQUARED")(3.0, 1.0) == 4.0


def test_duplicate_name_is_an_error_naming_both_plugins():
    class Clash:
        @lstmcore.hookimpl
        def register_losses(self, register):
            register("mse", object())

    with fresh_plugin_manager():
        with pytest.raises(PluginError) as caught:
            plugins.register_plugin(Clash(), "clashing-plugin")
    assert "'lstmcore'" in str(caught.value) and "'clashing-plugin'" in str(caught.value)


def test_duplicate_between_entry_points_fails_loading_and_names_both(plugin_modules, fake_entry_points):
    source = GOOD_PLUGIN
    fake_entry_points(("first", plugin_modules("dup_first", source)), ("second", plugin_modules("dup_second", source)))
    with pytest.raises(PluginError, match="'first'.*'second'"):
        with fresh_plugin_manager(autoload=True):
            pass


def test_broken_plugin_is_reported_and_the_rest_keep_working(plugin_modules, fake_entry_points):
    fake_entry_points(("broken", plugin_modules("broken_plugin", "raise ImportError('needs libfoo')")),
                      ("good", plugin_modules("good_plugin", GOOD_PLUGIN)))
    with pytest.warns(plugins.PluginWarning, match="broken.*needs libfoo"), fresh_plugin_manager(autoload=True):
        assert "good-task" in registry.tasks
        reports = {r.name: r for r in plugins.plugin_reports()}
        assert "ImportError: needs libfoo" in reports["broken"].error
        assert reports["good"].error is None and reports["good"].registered == {"tasks": ["good-task"]}


def test_misspelled_hook_is_caught(plugin_modules, fake_entry_points):
    fake_entry_points(("typo", plugin_modules("typo_plugin", """
        import lstmcore

        @lstmcore.hookimpl
        def register_task(register):
            pass
    """)))
    with pytest.warns(plugins.PluginWarning), fresh_plugin_manager(autoload=True):
        report = {r.name: r for r in plugins.plugin_reports()}["typo"]
    assert "unknown hook 'register_task'" in report.error and "'register_tasks'" in report.error


def test_hook_without_marker_is_caught(plugin_modules, fake_entry_points):
    fake_entry_points(("unmarked", plugin_modules("unmarked_plugin", """
        def register_tasks(register):
            pass
    """)))
    with pytest.warns(plugins.PluginWarning), fresh_plugin_manager(autoload=True):
        report = {r.name: r for r in plugins.plugin_reports()}["unmarked"]
    assert "not marked with @lstmcore.hookimpl" in report.error


def test_plugin_failing_inside_a_hook_leaves_nothing_behind(plugin_modules, fake_entry_points):
    fake_entry_points(("halfway", plugin_modules("halfway_plugin", """
        import lstmcore

        @lstmcore.hookimpl
        def register_metrics(register):
            register("halfway-metric", lambda a, b: 0.0)
            raise RuntimeError("second metric failed")
    """)))
    with pytest.warns(plugins.PluginWarning, match="second metric failed"), \
            fresh_plugin_manager(autoload=True):
        assert "halfway-metric" not in registry.metrics


def test_component_of_wrong_type_is_refused(plugin_modules, fake_entry_points):
    fake_entry_points(("wrong", plugin_modules("wrong_type_plugin", """
        import lstmcore

        @lstmcore.hookimpl
        def register_tasks(register):
            register("not-a-task", object())
    """)))
    with pytest.warns(plugins.PluginWarning, match="lstmcore.tasks.Task"), fresh_plugin_manager(autoload=True):
        assert "not-a-task" not in registry.tasks


def test_disabled_plugin_is_skipped(plugin_modules, fake_entry_points, monkeypatch):
    fake_entry_points(("good", plugin_modules("good_plugin", GOOD_PLUGIN)))
    monkeypatch.setenv("LSTMCORE_DISABLE_PLUGINS", "other, good")
    with fresh_plugin_manager(autoload=True):
        assert "good-task" not in registry.tasks
        assert {r.name: r for r in plugins.plugin_reports()}["good"].disabled


def test_autoload_can_be_turned_off_by_environment(plugin_modules, fake_entry_points, monkeypatch):
    fake_entry_points(("good", plugin_modules("good_plugin", GOOD_PLUGIN)))
    monkeypatch.setenv("LSTMCORE_DISABLE_PLUGIN_AUTOLOAD", "1")
    saved = plugins._swap_manager(None)
    snapshots = {kind: reg.snapshot() for kind, reg in registry.ALL.items()}
    try:
        plugins.reset()  # autoload decided by the environment
        assert "good-task" not in registry.tasks
        plugins.add_plugin_module(plugin_modules("explicit_plugin", GOOD_PLUGIN))  # what -p does
        assert registry.tasks.owner("good-task") == "explicit_plugin"
    finally:
        plugins._swap_manager(saved)
        for kind, reg in registry.ALL.items():
            reg.restore(snapshots[kind])


def test_explicit_plugin_module_that_cannot_be_imported_is_an_error():
    with fresh_plugin_manager():
        with pytest.raises(PluginError, match="no_such_module_xyz"):
            plugins.add_plugin_module("no_such_module_xyz")


def test_explicit_module_that_implements_no_hook_is_an_error_and_leaves_nothing():
    """`-p os` imports fine and does nothing: a typo of a plugin's module, not silently accepted."""
    with fresh_plugin_manager():
        with pytest.raises(PluginError, match=r"plugin module 'json' \(given with -p\) implements no lstmcore hook"):
            plugins.add_plugin_module("json")
        assert "json" not in [name for name, _ in plugins.get_plugin_manager().list_name_plugin()]


def test_p_no_name_blocks_a_plugin(plugin_modules, fake_entry_points):
    fake_entry_points(("good", plugin_modules("good_plugin", GOOD_PLUGIN)))
    with fresh_plugin_manager(autoload=True):
        plugins.block_plugin("good")
        assert "good-task" not in registry.tasks


def test_trace_writes_hook_calls_to_stderr(monkeypatch, capsys):
    monkeypatch.setenv("LSTMCORE_TRACE_PLUGINS", "1")
    with fresh_plugin_manager():
        list(registry.losses)
    err = capsys.readouterr().err
    assert "register_losses" in err and "registered losses 'mse'" in err


def test_cli_p_option_loads_a_plugin_with_autoload_off(plugin_modules, monkeypatch, capsys):
    module = plugin_modules("cli_explicit_plugin", GOOD_PLUGIN)
    monkeypatch.setenv("LSTMCORE_DISABLE_PLUGIN_AUTOLOAD", "1")
    from lstmcore.cli import main

    with fresh_plugin_manager():
        assert main(["-p", module, "plugins", "--json"]) == 0
    names = {p["name"]: p for p in json.loads(capsys.readouterr().out)["plugins"]}
    assert names[module]["registered"] == {"tasks": ["good-task"]}


def test_cli_reports_unimportable_p_module_in_one_line(capsys):
    from lstmcore.cli import main

    with fresh_plugin_manager():
        assert main(["-p", "no_such_module_xyz", "plugins"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "no_such_module_xyz" in err[0]


def test_plugin_command_appears_in_the_cli(capsys):
    from lstmcore.cli import main
    from lstmcore.commands import Command

    class HelloPlugin:
        @lstmcore.hookimpl
        def register_commands(self, register):
            register("hello", Command("say hello", lambda p: p.add_argument("who"),
                                      lambda args: print(f"hello {args.who}") or 0))

    with fresh_plugin_manager(HelloPlugin()):
        assert main(["hello", "world"]) == 0
    assert capsys.readouterr().out == "hello world\n"
