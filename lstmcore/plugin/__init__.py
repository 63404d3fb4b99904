"""The plugin contract and the machinery behind it, one module per concern.

- `hookspecs`: the hooks a plugin may implement, and `HOOK_TABLE`, the one
  table of the hook kinds (hook name, registry it fills, class a component
  must be), from which everything else below is derived.
- `registry`: the registries the hooks fill (`losses`, `tasks`, ... and
  `ALL`), read by the rest of the library; reading one loads the plugins.
- `manager`: the plugin manager: loads the built-in plugin, entry points and
  `-p` modules, checks each component, reports what each plugin registered.
- `builtins/`: the core's own plugin, one module per feature (losses,
  readers, tasks, commands, ...), registered as the plugin "lstmcore".
- `testing`: helpers for plugin authors' tests (a plugin for one test, a
  fresh manager, gradient checks).

The older names `lstmcore.hookspecs`, `lstmcore.registry`, `lstmcore.plugins`
and `lstmcore.testing` still work and give the same objects.
"""
