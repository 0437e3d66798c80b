"""A layer in front of drongo that does what real Secret Manager does and
drongo does not, so clients can be tested as they run against Google.

    python gcp_layer.py PORT DRONGO_URL

drongo 0.8 answers `secrets.list` with every secret of the project: it
ignores `filter`, `pageSize` and `pageToken`. It also accepts any secret id,
label and payload, and neither checks nor returns `dataCrc32c`. This layer
forwards every request to drongo, and on the way:
- lists by itself: the filter grammar ZenML and secman use (terms joined by
  `AND`: `labels.KEY=VALUE`, `labels.KEY:*`, `labels.KEY:VALUE`,
  `name:VALUE`, values optionally quoted), then pages of at most
  MAX_PAGE secrets (fewer than asked, as the API allows) with an opaque
  `nextPageToken`;
- refuses what Google refuses: ids beyond `[A-Za-z0-9_-]{1,255}`, label
  keys and values beyond Google's rules, payloads empty or over 64 KiB, and
  a `dataCrc32c` that does not match the data;
- returns `dataCrc32c` with every accessed payload;
- answers a bearer token containing `invalid` with 401, as Google answers
  an expired or wrong token, and remembers every token it was sent
  (`GET /layer/tokens`).
"""

import base64
import json
import re
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_PAGE = 3
MAX_PAYLOAD = 65536
SECRET_ID = re.compile(r"[A-Za-z0-9_-]{1,255}\Z")
LABEL_KEY = re.compile(r"[a-z][a-z0-9_-]{0,62}\Z")
LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}\Z")
LIST = re.compile(r"/v1/projects/[^/]+/secrets\Z")
ADD_VERSION = re.compile(r"/v1/projects/[^/]+/secrets/[^/:]+:addVersion\Z")
ACCESS = re.compile(r"/v1/projects/[^/]+/secrets/[^/:]+/versions/[^/:]+:access\Z")
TERM = re.compile(r'(labels\.[A-Za-z0-9_-]+|name)\s*([=:])\s*("[^"]*"|[^\s"]+)\Z')

drongo = sys.argv[2].rstrip("/")
tokens = set()
tokens_lock = threading.Lock()


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


class Refused(Exception):
    def __init__(self, code, status, message):
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


def invalid(message):
    return Refused(400, "INVALID_ARGUMENT", message)


def parse_filter(text):
    """The filter as a list of predicates on a secret resource."""
    predicates = []
    for term in [t.strip() for t in re.split(r"\s+AND\s+", text.strip())] if text.strip() else []:
        match = TERM.match(term)
        if not match:
            raise invalid(f"Invalid filter: {term}")
        field, op, value = match.groups()
        value = value[1:-1] if value.startswith('"') else value

        def get(secret, field=field):
            if field == "name":
                return secret["name"].rsplit("/", 1)[-1]
            return (secret.get("labels") or {}).get(field[len("labels."):])

        if op == "=":
            predicates.append(lambda s, get=get, value=value: get(s) == value)
        elif value == "*":
            predicates.append(lambda s, get=get: get(s) is not None)
        else:
            predicates.append(lambda s, get=get, value=value: value in (get(s) or ""))
    return predicates


class Layer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        try:
            if self.command == "GET" and url.path == "/layer/tokens":
                with tokens_lock:
                    return self.reply(200, json.dumps(sorted(tokens)).encode())
            self.authenticate()
            if self.command == "GET" and LIST.match(url.path):
                return self.list(url.path, query)
            if self.command == "POST" and LIST.match(url.path):
                self.check_create(query, body)
            if self.command == "POST" and ADD_VERSION.match(url.path):
                self.check_payload(body)
            status, answer = self.forward(self.path, body)
            if status == 200 and self.command == "GET" and ACCESS.match(url.path):
                resource = json.loads(answer)
                data = base64.b64decode(resource["payload"].get("data", ""))
                resource["payload"]["dataCrc32c"] = str(crc32c(data))
                answer = json.dumps(resource).encode()
            self.reply(status, answer)
        except Refused as refused:
            error = {"code": refused.code, "message": refused.message, "status": refused.status}
            self.reply(refused.code, json.dumps({"error": error}).encode())

    do_GET = do_POST = do_PATCH = do_DELETE = handle_any

    def authenticate(self):
        authorization = self.headers.get("Authorization")
        if authorization is None:
            return
        token = authorization.removeprefix("Bearer ")
        with tokens_lock:
            tokens.add(token)
        if "invalid" in token:
            raise Refused(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
            )

    def check_create(self, query, body):
        secret_id = query.get("secretId", [""])[0]
        if not SECRET_ID.match(secret_id):
            raise invalid(f"Secret id [{secret_id}] is invalid.")
        labels = json.loads(body or b"{}").get("labels") or {}
        if len(labels) > 64:
            raise invalid("A secret has at most 64 labels.")
        for key, value in labels.items():
            if not LABEL_KEY.match(key) or not LABEL_VALUE.match(value):
                raise invalid(f"Label [{key}: {value}] is invalid.")

    def check_payload(self, body):
        payload = json.loads(body or b"{}").get("payload") or {}
        data = base64.b64decode(payload.get("data") or "")
        if not data:
            raise invalid("Field [payload] is required.")
        if len(data) > MAX_PAYLOAD:
            raise invalid(f"Secret payload cannot exceed {MAX_PAYLOAD} bytes.")
        checksum = payload.get("dataCrc32c")
        if checksum is not None and int(checksum) != crc32c(data):
            raise invalid("Checksum mismatch: the payload was corrupted in transit.")

    def list(self, path, query):
        predicates = parse_filter(query.get("filter", [""])[0])
        status, answer = self.forward(path, b"")
        if status != 200:
            return self.reply(status, answer)
        secrets = json.loads(answer).get("secrets", [])
        matched = [s for s in secrets if all(p(s) for p in predicates)]
        start = int(query.get("pageToken", ["0"])[0] or 0)
        size = min(int(query.get("pageSize", [MAX_PAGE])[0]) or MAX_PAGE, MAX_PAGE)
        page = {"secrets": matched[start : start + size], "totalSize": len(matched)}
        if start + size < len(matched):
            page["nextPageToken"] = str(start + size)
        self.reply(200, json.dumps(page).encode())

    def forward(self, path, body):
        request = urllib.request.Request(
            drongo + path, data=body or None, method=self.command,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Layer).serve_forever()
