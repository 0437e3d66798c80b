"""An EC2 instance metadata service (IMDSv2) and an ECS container
credentials endpoint, for the tests.

    python aws_metadata_server.py ACCESS_KEY_ID SECRET_ACCESS_KEY

Prints the port it listens on (127.0.0.1), then answers until killed, as
the real services do:
- `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds`
  gives a session token; every metadata GET without it is refused (401);
- `GET /latest/meta-data/iam/security-credentials/` names the role,
  `secman-role`, and `GET .../secman-role` gives its credentials;
- `GET /v2/credentials/ID` gives a container's credentials, only with
  `Authorization: container-token`;
- `GET /seen` lists what was asked, as `["METHOD PATH", ...]`.
The credentials given are the two arguments, which moto accepts (an IAM
user's keys, so without the session token the real services add).
"""

import datetime
import json
import sys
import threading

from peer_server import Handler, serve

key, secret = sys.argv[1], sys.argv[2]
SESSION = "imds-session-token"
seen = []
lock = threading.Lock()


class Server(Handler):
    def record(self):
        with lock:
            seen.append(f"{self.command} {self.path}")

    def do_PUT(self):
        self.record()
        if self.path == "/latest/api/token" and self.headers.get(
            "X-aws-ec2-metadata-token-ttl-seconds"
        ):
            return self.reply(200, SESSION, "text/plain")
        self.reply(400, "", "text/plain")

    def do_GET(self):
        if self.path == "/seen":
            with lock:
                return self.reply(200, json.dumps(seen))
        self.record()
        issued = {
            "Code": "Success",
            "Type": "AWS-HMAC",
            "AccessKeyId": key,
            "SecretAccessKey": secret,
            "Expiration": (
                datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
            ).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        roles = "/latest/meta-data/iam/security-credentials/"
        if self.path.startswith("/latest/"):
            if self.headers.get("X-aws-ec2-metadata-token") != SESSION:
                return self.reply(401, "", "text/plain")
            if self.path == roles:
                return self.reply(200, "secman-role", "text/plain")
            if self.path == roles + "secman-role":
                return self.reply(200, json.dumps(issued))
        if self.path.startswith("/v2/credentials/"):
            if self.headers.get("Authorization") != "container-token":
                return self.reply(403, json.dumps({"message": "no authorization"}))
            return self.reply(200, json.dumps(issued))
        self.reply(404, "", "text/plain")


serve(Server)
