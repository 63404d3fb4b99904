"""The example plugin, pip-installed into a temporary environment, found through real entry-point discovery."""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import lstmcore
from lstmcore.testing import check_loss_gradient, fresh_plugin_manager, registered_plugin

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "lstmcore-example-plugin"


def _site_folders(prefix):
    """The site-packages folders of the environment at `prefix` (purelib and platlib)."""
    paths = sysconfig.get_paths(vars={"base": prefix, "platbase": prefix})
    return sorted({paths["purelib"], paths["platlib"]})


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory):
    """A venv that sees the environment under test, and only it, with the example plugin installed from a
    copy (no downloads).

    Not `--system-site-packages`: from inside a venv that exposes the *base* interpreter's packages,
    not the venv's, and the tests then passed only where lstmcore's dependencies had been installed
    into the base interpreter by hand.  A .pth file adds this environment's site folders instead
    (through `site.addsitedir`, so the editable installs' own .pth files are processed too)."""
    folder = tmp_path_factory.mktemp("example-plugin")
    source = folder / "source"
    shutil.copytree(EXAMPLE, source)  # pip builds in the source tree; keep the repository clean
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    own_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip()
    lines = [f"import site; site.addsitedir({folder!r})" for folder in _site_folders(sys.prefix)]
    Path(own_site, "environment_under_test.pth").write_text("\n".join(lines) + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", str(source)], check=True, env=_env())
    return python


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LSTMCORE_")}
    env["PYTHONPATH"] = str(REPO)  # the lstmcore under test, installed or not
    env.update(extra)
    return env


def _lstmcore(python, *args, **env):
    return subprocess.run([str(python), "-m", "lstmcore", *args], capture_output=True, text=True, env=_env(**env))


def test_the_plugin_venv_sees_the_environment_under_test_and_not_the_base_interpreter(venv_python):
    """lstmcore's dependencies come from the environment under test; the base interpreter's
    site-packages (which may hold anything installed there by hand) are not on the path."""
    probe = subprocess.run([str(venv_python), "-c", "import sys, threadpoolctl, pluggy; "
                            "print(threadpoolctl.__file__); print(pluggy.__file__); print(*sys.path, sep='\\n')"],
                           capture_output=True, text=True, env=_env(), check=True).stdout.splitlines()
    under_test = _site_folders(sys.prefix)
    assert all(any(found.startswith(folder) for folder in under_test) for found in probe[:2]), probe[:2]
    if sys.prefix != sys.base_prefix:
        base = _site_folders(sys.base_prefix)
        assert not [entry for entry in probe[2:] if any(entry.startswith(folder) for folder in base)]


def test_entry_point_is_discovered(venv_python):
    found = subprocess.run([str(venv_python), "-c", "import importlib.metadata as m; "
                            "print([e.value for e in m.entry_points(group='lstmcore')])"],
                           capture_output=True, text=True, env=_env(), check=True)
    assert "lstmcore_example" in found.stdout


def test_cli_lists_the_installed_plugin(venv_python):
    result = _lstmcore(venv_python, "plugins", "--json")
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}
    example = plugins["example"]
    assert example["source"] == "entry point" and example["version"] == "0.1.0"
    assert example["distribution"] == "lstmcore-example-plugin" and example["error"] is None
    assert example["registered"] == {"commands": ["gc"], "losses": ["log-cosh"], "tasks": ["gc-content"]}
    text = _lstmcore(venv_python, "plugins").stdout
    assert "example 0.1.0 (entry point: lstmcore_example)" in text and "tasks: gc-content" in text


def test_plugin_command_and_task_run_from_the_cli(venv_python, tmp_path):
    fasta = tmp_path / "x.fa"
    fasta.write_text(">a\nGGCC\n>b\nATGC\n")
    result = _lstmcore(venv_python, "gc", str(fasta))
    assert result.returncode == 0 and result.stdout == "a\t1.0000\nb\t0.5000\n"
    demo = _lstmcore(venv_python, "demo", "gc-content", "--out", str(tmp_path / "demo"), "--epochs", "2", "-q")
    assert demo.returncode == 0, demo.stderr
    assert (tmp_path / "demo" / "predictions.tsv").read_text().startswith("id\tgc_predicted\tgc_observed\n")


def test_installed_plugin_can_be_disabled(venv_python):
    off = _lstmcore(venv_python, "plugins", "--json", LSTMCORE_DISABLE_PLUGIN_AUTOLOAD="1")
    assert "example" not in {p["name"] for p in json.loads(off.stdout)["plugins"]}
    disabled = _lstmcore(venv_python, "plugins", "--json", LSTMCORE_DISABLE_PLUGINS="example")
    assert {p["name"]: p for p in json.loads(disabled.stdout)["plugins"]}["example"]["disabled"] is True
    explicit = _lstmcore(venv_python, "-p", "lstmcore_example", "plugins", "--json",
                         LSTMCORE_DISABLE_PLUGIN_AUTOLOAD="1")
    assert "lstmcore_example" in {p["name"] for p in json.loads(explicit.stdout)["plugins"]}


def test_example_loss_gradient_with_the_testing_helpers(monkeypatch):
    import numpy as np

    monkeypatch.syspath_prepend(str(EXAMPLE))
    import lstmcore_example

    rng = np.random.default_rng(0)
    check_loss_gradient(lstmcore_example.LogCosh(), rng.normal(size=(4, 3)), rng.normal(size=(4, 3)))
    with fresh_plugin_manager(), registered_plugin(lstmcore_example, "example-in-test"):
        assert lstmcore.registry.losses.owner("log-cosh") == "example-in-test"
