"""Container healthcheck: `python -m app.healthcheck PORT` exits 0 when GET /health answers 200."""

import sys
import urllib.request

try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/health", timeout=5) as resp:
        sys.exit(0 if resp.status == 200 else 1)
except Exception as exc:  # noqa: BLE001 - any failure is unhealthy
    print(f"unhealthy: {exc}")
    sys.exit(1)
