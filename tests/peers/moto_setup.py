"""Creates the IAM identities the aws tests sign as, on a moto server.

moto_server runs with INITIAL_NO_AUTH_ACTION_COUNT=8: its first eight
requests are free, and after them every request's SigV4 signature is
checked against the keys moto knows, and its action against their
policies. This script spends the free requests on:
- an IAM user allowed secretsmanager:*, and its access key;
- a role allowed secretsmanager:*, and a user allowed only to assume it
  (sts:AssumeRole), with its access key: a profile that assumes the role
  with that user's keys reaches Secrets Manager only through STS;
then prints the keys and the role as shell `export` lines.

    python moto_setup.py http://127.0.0.1:PORT
"""

import json
import sys

import boto3

def allow(action, principal=None):
    """A policy document allowing `action` (to `principal`, for a trust policy)."""
    statement = {"Effect": "Allow", "Action": action}
    if principal:
        statement["Principal"] = principal
    else:
        statement["Resource"] = "*"
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


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
    PolicyDocument=allow("secretsmanager:*"),
)
key = iam.create_access_key(UserName="secman-tests")["AccessKey"]
print(f"export SECMAN_TEST_AWS_ACCESS_KEY_ID={key['AccessKeyId']}")
print(f"export SECMAN_TEST_AWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}")

role = iam.create_role(
    RoleName="secman-tests-role",
    AssumeRolePolicyDocument=allow("sts:AssumeRole", {"AWS": "*"}),
)["Role"]
iam.put_role_policy(
    RoleName="secman-tests-role",
    PolicyName="secretsmanager",
    PolicyDocument=allow("secretsmanager:*"),
)
iam.create_user(UserName="secman-assumer")
iam.put_user_policy(
    UserName="secman-assumer",
    PolicyName="assume",
    PolicyDocument=allow("sts:AssumeRole"),
)
assumer = iam.create_access_key(UserName="secman-assumer")["AccessKey"]
print(f"export SECMAN_TEST_AWS_ROLE_ARN={role['Arn']}")
print(f"export SECMAN_TEST_AWS_ASSUMER_KEY_ID={assumer['AccessKeyId']}")
print(f"export SECMAN_TEST_AWS_ASSUMER_SECRET={assumer['SecretAccessKey']}")
