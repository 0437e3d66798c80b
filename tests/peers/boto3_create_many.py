"""Creates COUNT secrets in Secrets Manager with boto3, as ZenML's layout
holds them, one `create_secret` call each: the peer `secret copy --all` is
timed beside (host/benches/cli.rs).

    python boto3_create_many.py ENDPOINT REGION PREFIX COUNT

Credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
"""

import json
import sys

import boto3

endpoint, region, prefix, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
client = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=region)
for i in range(count):
    value = {
        "password": f"password-{i}-with-some-length",
        "username": f"user{i}",
        "zenml_schema_name": "arbitrary",
    }
    client.create_secret(Name=f"{prefix}secret{i:05}", SecretString=json.dumps(value))
