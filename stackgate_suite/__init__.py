"""The release gate as a pytest suite: `pytest --pyargs stackgate_suite -m smoke --manifest=PATH`."""
