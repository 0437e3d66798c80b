"""What the drivers of ZenML 0.52.0's secrets managers share: ZenML's
settings for a throwaway run, and the commands the tests send.

    decode             -> JSON {name: {"schema", "values"}}
    register | update  <- JSON [{"name", "schema", "values"}, ...] on stdin
    delete NAME...

`decode` lists the names ZenML lists and gets each secret as ZenML gets
it. A secret ZenML cannot get is {"error": "..."}; a name that is not a
string (PyYAML reads `yes` as True) is keyed by its Python repr, with
"non_string": true.
"""

import datetime
import json
import os
import sys
import tempfile
import uuid

os.environ.setdefault("ZENML_CONFIG_PATH", tempfile.mkdtemp(prefix="zenml-config-"))
os.environ["ZENML_ANALYTICS_OPT_IN"] = "false"
# ZenML logs to stdout, where the answer goes; its VaultSecretsManager logs
# an ERROR for every empty listing. What fails raises anyway.
os.environ["ZENML_LOGGING_VERBOSITY"] = "CRITICAL"

import zenml.secret.schemas  # noqa: E402,F401  (registers ZenML's schemas)
from zenml.enums import StackComponentType  # noqa: E402
from zenml.secret import SecretSchemaClassRegistry  # noqa: E402


def component(cls, name, config, flavor, component_id=None):
    """A ZenML stack component of class `cls`, as ZenML builds one."""
    now = datetime.datetime.now()
    return cls(
        name=name,
        id=component_id or uuid.uuid4(),
        config=config,
        flavor=flavor,
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


def run(sm, command, names):
    """Runs one of the commands above on the secrets manager `sm`."""
    if command == "decode":
        json.dump(decode(sm), sys.stdout, sort_keys=True)
    elif command in ("register", "update"):
        for secret in json.load(sys.stdin):
            getattr(sm, f"{command}_secret")(schema_instance(secret))
    elif command == "delete":
        for name in names:
            sm.delete_secret(name)
    else:
        sys.exit(f"unknown command {command}")
