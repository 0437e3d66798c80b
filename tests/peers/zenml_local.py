"""ZenML 0.52.0's own local secrets manager, driven from the tests.

Nothing here re-implements ZenML: every read and write goes through
`zenml.secrets_managers.local.local_secrets_manager.LocalSecretsManager`
(its `yaml_utils`, its base64 encoding, PyYAML underneath), the class a
ZenML user's stack ran.

    python zenml_local.py decode STORE       -> JSON {name: {"schema", "values"}}
    python zenml_local.py register STORE     <- JSON [{"name", "schema", "values"}, ...]
    python zenml_local.py update STORE       <- JSON [{"name", "schema", "values"}, ...]
    python zenml_local.py delete STORE NAME...

`decode` lists the names ZenML lists and gets each secret as ZenML gets
it. A secret ZenML cannot get is {"error": "..."}; a name PyYAML read as
something other than a string (`yes` read as True) is keyed by its
Python repr, with "non_string": true.
"""

import datetime
import json
import os
import sys
import tempfile
import uuid

os.environ.setdefault("ZENML_CONFIG_PATH", tempfile.mkdtemp(prefix="zenml-config-"))
os.environ["ZENML_ANALYTICS_OPT_IN"] = "false"
os.environ["ZENML_LOGGING_VERBOSITY"] = "ERROR"

import zenml.secret.schemas  # noqa: E402,F401  (registers ZenML's schemas)
from zenml.enums import StackComponentType  # noqa: E402
from zenml.secret import SecretSchemaClassRegistry  # noqa: E402
from zenml.secrets_managers.local.local_secrets_manager import (  # noqa: E402
    LocalSecretsManager,
    LocalSecretsManagerConfig,
)


def manager(store):
    now = datetime.datetime.now()
    return LocalSecretsManager(
        name="secman-test",
        id=uuid.uuid4(),
        config=LocalSecretsManagerConfig(secrets_file=store),
        flavor="local",
        type=StackComponentType.SECRETS_MANAGER,
        user=uuid.uuid4(),
        workspace=uuid.uuid4(),
        created=now,
        updated=now,
    )


def schema_instance(secret):
    schema = SecretSchemaClassRegistry.get_class(secret_schema=secret["schema"])
    return schema(name=secret["name"], **secret["values"])


def decode(sm):
    out = {}
    for name in sm.get_all_secret_keys():
        key = name if isinstance(name, str) else repr(name)
        try:
            secret = sm.get_secret(name)
            out[key] = {"schema": secret.TYPE, "values": secret.content}
        except Exception as e:  # what ZenML raises is the finding
            out[key] = {"error": f"{type(e).__name__}: {e}"}
        if not isinstance(name, str):
            out[key]["non_string"] = True
    return out


if __name__ == "__main__":
    command, store = sys.argv[1], sys.argv[2]
    sm = manager(store)
    if command == "decode":
        json.dump(decode(sm), sys.stdout, sort_keys=True)
    elif command in ("register", "update"):
        for secret in json.load(sys.stdin):
            getattr(sm, f"{command}_secret")(schema_instance(secret))
    elif command == "delete":
        for name in sys.argv[3:]:
            sm.delete_secret(name)
    else:
        sys.exit(f"unknown command {command}")
