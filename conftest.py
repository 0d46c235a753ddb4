"""Root conftest: puts the repository on sys.path for the project's own tests (the stackgate plugin itself is
loaded by its pytest11 entry point, installed with the package)."""
