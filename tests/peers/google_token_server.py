"""Google's token endpoint and a GCE metadata server, for the tests.

    python google_token_server.py PUBLIC_KEY_PEM REFRESH_TOKEN

Prints the port it listens on (127.0.0.1), then answers until killed:
- `POST /token` with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`
  checks the assertion as Google does: an RS256 JWT whose signature the
  service account's public key (PUBLIC_KEY_PEM) verifies, `aud` this URL,
  `scope` holding cloud-platform, `iss` an account, `iat` now and `exp` at
  most an hour later; then issues a token;
- `POST /token` with `grant_type=refresh_token` issues a token for
  REFRESH_TOKEN (client id and secret given), and refuses any other;
- `GET /computeMetadata/v1/instance/service-accounts/default/token`, with
  `Metadata-Flavor: Google` as the real server requires, issues a token;
- `GET /issued` lists the tokens issued, as `[[how, token], ...]`.
Refusals are Google's: 400 with `{"error": "invalid_grant", ...}`.
"""

import base64
import json
import sys
import threading
import time
import urllib.parse

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from peer_server import Handler, serve

with open(sys.argv[1], "rb") as f:
    public_key = serialization.load_pem_public_key(f.read())
refresh_token = sys.argv[2]
issued = []
lock = threading.Lock()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Refused(Exception):
    pass


class Server(Handler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        field = lambda name: form.get(name, [""])[0]
        try:
            if self.path != "/token":
                return self.reply(404, {"error": "not_found"})
            if self.headers.get("Content-Type") != "application/x-www-form-urlencoded":
                raise Refused("the body is not a form")
            grant = field("grant_type")
            if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
                account = self.check_assertion(field("assertion"))
                self.issue("service_account:" + account)
            elif grant == "refresh_token":
                if not field("client_id") or not field("client_secret"):
                    raise Refused("no client")
                if field("refresh_token") != refresh_token:
                    raise Refused("Token has been expired or revoked.")
                self.issue("authorized_user:" + field("client_id"))
            else:
                raise Refused("unsupported grant_type")
        except Refused as refused:
            self.reply(400, {"error": "invalid_grant", "error_description": str(refused)})

    def check_assertion(self, assertion):
        try:
            head, claims, signature = assertion.split(".")
            header = json.loads(unb64(head))
            claims_json = json.loads(unb64(claims))
        except ValueError:
            raise Refused("the assertion is not a JWT")
        if header.get("alg") != "RS256":
            raise Refused("the assertion is not RS256")
        try:
            public_key.verify(
                unb64(signature),
                f"{head}.{claims}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            raise Refused("Invalid JWT Signature.")
        now = time.time()
        audience = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        if claims_json.get("aud") != audience:
            raise Refused(f"Invalid JWT: aud is not {audience}")
        if "https://www.googleapis.com/auth/cloud-platform" not in claims_json.get("scope", "").split():
            raise Refused("Invalid JWT: no cloud-platform scope")
        if "@" not in claims_json.get("iss", ""):
            raise Refused("Invalid JWT: iss is not an account")
        iat, exp = claims_json.get("iat", 0), claims_json.get("exp", 0)
        if abs(iat - now) > 300 or exp <= now or exp - iat > 3600:
            raise Refused("Invalid JWT: Token must be a short-lived token (60 minutes)")
        return claims_json["iss"]

    def do_GET(self):
        if self.path == "/issued":
            with lock:
                return self.reply(200, issued)
        if self.path == "/computeMetadata/v1/instance/service-accounts/default/token":
            if self.headers.get("Metadata-Flavor") != "Google":
                return self.reply(403, {"error": "Missing Metadata-Flavor:Google header."})
            return self.issue("metadata")
        self.reply(404, {"error": "not_found"})

    def issue(self, how):
        with lock:
            token = f"ya29.test-{len(issued)}-{time.time_ns()}"
            issued.append([how, token])
        self.reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})


serve(Server)
