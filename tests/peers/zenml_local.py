"""ZenML 0.52.0's own local secrets manager, driven from the tests.

Nothing here re-implements ZenML: every read and write goes through
`zenml.secrets_managers.local.local_secrets_manager.LocalSecretsManager`
(its `yaml_utils`, its base64 encoding, PyYAML underneath), the class a
ZenML user's stack ran.

    python zenml_local.py COMMAND STORE [NAME...]

COMMAND is one of zenml_common.py's (decode, register, update, delete).
"""

import sys

from zenml_common import component, run
from zenml.secrets_managers.local.local_secrets_manager import (
    LocalSecretsManager,
    LocalSecretsManagerConfig,
)

if __name__ == "__main__":
    command, store = sys.argv[1], sys.argv[2]
    config = LocalSecretsManagerConfig(secrets_file=store)
    run(component(LocalSecretsManager, "secman-test", config, "local"), command, sys.argv[3:])
