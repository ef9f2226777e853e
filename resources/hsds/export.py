"""The published directory as HSDS 3 services, fully nested: a JSON array or NDJSON.

The same serializer and queryset as /api/hsds/services/{id} (so a confidential
location's address, ZIP code and coordinates are never written), read a chunk at a time,
into a temporary file that takes the path's place only when complete.
"""

import json
import os
import tempfile
from pathlib import Path

from rest_framework.utils.encoders import JSONEncoder

from resources.api.querysets import published_services

from .serializers import HsdsServiceSerializer, each_represented

FORMATS = {".json": "json", ".ndjson": "ndjson"}
CHUNK = 500


def export_services(path):
    """Write every published service to path (.json or .ndjson); returns how many."""
    path = Path(path)
    kind = FORMATS.get(path.suffix)
    if kind is None:
        raise ValueError(f"Give a path ending in {' or '.join(FORMATS)}, not {path.name}.")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    count = 0
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            if kind == "json":
                out.write("[\n")
            services = published_services().order_by("name", "id")
            for data in each_represented(HsdsServiceSerializer, services, chunk=CHUNK):
                record = json.dumps(data, cls=JSONEncoder, ensure_ascii=False)
                if kind == "json" and count:
                    out.write(",\n")
                out.write(record if kind == "json" else record + "\n")
                count += 1
            if kind == "json":
                out.write("\n]\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count
