"""Creates the IAM user the aws tests sign as, on a moto server.

moto_server runs with INITIAL_NO_AUTH_ACTION_COUNT=3: its first three
requests are free, and after them every request's SigV4 signature is
checked against the keys moto knows. This script spends the free requests
on an IAM user, an inline policy allowing secretsmanager:*, and an access
key, then prints the key as shell `export` lines.

    python moto_setup.py http://127.0.0.1:PORT
"""

import json
import sys

import boto3

endpoint = sys.argv[1]
iam = boto3.client(
    "iam",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="bootstrap",
    aws_secret_access_key="bootstrap",
)
iam.create_user(UserName="secman-tests")
iam.put_user_policy(
    UserName="secman-tests",
    PolicyName="secretsmanager",
    PolicyDocument=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}],
        }
    ),
)
key = iam.create_access_key(UserName="secman-tests")["AccessKey"]
print(f"export SECMAN_TEST_AWS_ACCESS_KEY_ID={key['AccessKeyId']}")
print(f"export SECMAN_TEST_AWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}")
