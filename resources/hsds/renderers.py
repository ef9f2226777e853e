import json

from rest_framework.renderers import BaseRenderer
from rest_framework.utils.encoders import JSONEncoder


class NDJSONRenderer(BaseRenderer):
    """Newline-delimited JSON (application/x-ndjson): one document a line. A list streams
    one service a line (resources.hsds.views.ServiceViewSet.list); anything else, an
    error say, is its one line."""

    media_type = "application/x-ndjson"
    format = "ndjson"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data, cls=JSONEncoder, ensure_ascii=False).encode() + b"\n"
