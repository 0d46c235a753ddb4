"""Root conftest: loads the stackgate pytest plugin (fixtures, options, report)."""

pytest_plugins = ["stackgate.plugin"]
