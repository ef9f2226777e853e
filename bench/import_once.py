"""One HSDS import, timed from inside: `python bench/import_once.py PATH` imports the
package at PATH into DATABASE_URL's database (published, as a coalition's first load
would be) and prints one JSON line: seconds, peak memory in MB, and the counts.

bench/bench.py runs it in a process of its own, so the peak is the import's alone.
"""

import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "directory.settings")

import django  # noqa: E402

django.setup()

from resources.hsds.imports import import_package  # noqa: E402


def main():
    started = time.perf_counter()
    report = import_package(sys.argv[1], publish=True)
    seconds = time.perf_counter() - started
    if not report.applied:
        sys.exit("\n".join(str(error) for error in report.errors[:20]))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KB
    print(
        json.dumps(
            {
                "seconds": round(seconds, 1),
                "peak_mb": round(peak_mb),
                "summary": report.summary(),
            }
        )
    )


if __name__ == "__main__":
    main()
