"""Container healthcheck: `python -m app.healthcheck PORT` exits 0 when GET $PATH_PREFIX/health answers 200."""

import os
import sys
import urllib.request

URL = f"http://127.0.0.1:{sys.argv[1]}{os.environ.get('PATH_PREFIX', '').rstrip('/')}/health"
try:
    with urllib.request.urlopen(URL, timeout=5) as resp:
        sys.exit(0 if resp.status == 200 else 1)
except Exception as exc:  # noqa: BLE001 - any failure is unhealthy
    print(f"unhealthy: {exc}")
    sys.exit(1)
