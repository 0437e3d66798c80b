"""Calls Secret Manager through Google's own Python client, for the tests.

    python gcp_call.py ENDPOINT PROJECT OPERATION '{"param": ...}'

REST transport, anonymous credentials, the emulator's endpoint. Operations:
  create  {"id", "labels", "data"}   a secret and its first version (data as text)
  access  {"id"}                     the latest version's data, as text
  get     {"id"}                     the secret's labels
  list    {"filter"}                 every secret (id and labels), all pages
  delete  {"id"}
Prints the answer as JSON, or {"error": "<exception class>"}.
"""

import json
import sys

from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import secretmanager

endpoint, project, operation, params = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
client = secretmanager.SecretManagerServiceClient(
    transport="rest",
    client_options=ClientOptions(api_endpoint=endpoint),
    credentials=AnonymousCredentials(),
)
parent = f"projects/{project}"
secret = lambda: f"{parent}/secrets/{params['id']}"  # noqa: E731

try:
    if operation == "create":
        client.create_secret(
            request={
                "parent": parent,
                "secret_id": params["id"],
                "secret": {"replication": {"automatic": {}}, "labels": params.get("labels", {})},
            }
        )
        client.add_secret_version(
            request={"parent": secret(), "payload": {"data": params["data"].encode()}}
        )
        answer = {}
    elif operation == "access":
        version = client.access_secret_version(request={"name": f"{secret()}/versions/latest"})
        answer = {"data": version.payload.data.decode()}
    elif operation == "get":
        answer = {"labels": dict(client.get_secret(request={"name": secret()}).labels)}
    elif operation == "list":
        listed = client.list_secrets(request={"parent": parent, "filter": params.get("filter", "")})
        answer = [{"id": s.name.rsplit("/", 1)[-1], "labels": dict(s.labels)} for s in listed]
    elif operation == "delete":
        client.delete_secret(request={"name": secret()})
        answer = {}
    else:
        sys.exit(f"unknown operation {operation}")
except exceptions.GoogleAPICallError as error:
    answer = {"error": type(error).__name__}
json.dump(answer, sys.stdout)
