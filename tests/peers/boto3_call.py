"""Calls AWS Secrets Manager with boto3, AWS's own client, for the tests.

    python boto3_call.py ENDPOINT REGION OPERATION '{"Param": ...}'

Signs with SECMAN_TEST_AWS_ACCESS_KEY_ID / SECMAN_TEST_AWS_SECRET_ACCESS_KEY
and prints the answer as JSON, or {"Error": {"Code": ..., "Message": ...}}.
"""

import json
import os
import sys

import boto3
import botocore.exceptions

endpoint, region, operation, params = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
client = boto3.client(
    "secretsmanager",
    endpoint_url=endpoint,
    region_name=region,
    aws_access_key_id=os.environ["SECMAN_TEST_AWS_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["SECMAN_TEST_AWS_SECRET_ACCESS_KEY"],
)
try:
    answer = getattr(client, operation)(**params)
    answer.pop("ResponseMetadata", None)
except botocore.exceptions.ClientError as error:
    answer = {"Error": error.response["Error"]}
json.dump(answer, sys.stdout, default=str)
