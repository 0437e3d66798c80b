"""ZenML 0.52.0's own Vault secrets manager, driven from the tests.

Nothing here re-implements ZenML or replaces any of it: every read and
write goes through
`zenml.integrations.vault.secrets_manager.vault_secrets_manager.VaultSecretsManager`,
which talks to the server with hvac.

    python zenml_vault.py URL TOKEN MOUNT SCOPE NAMESPACE UUID COMMAND [NAME...]

SCOPE is none, global, component or namespace; NAMESPACE is `-` outside
the namespace scope; UUID is the component's id (secman's manager uuid).
COMMAND is one of zenml_common.py's (decode, register, update, delete).
"""

import sys
import uuid

from zenml_common import component, run
from zenml.integrations.vault.flavors.vault_secrets_manager_flavor import (
    VaultSecretsManagerConfig,
)
from zenml.integrations.vault.secrets_manager.vault_secrets_manager import (
    VaultSecretsManager,
)

if __name__ == "__main__":
    url, token, mount, scope, namespace, component_id, command = sys.argv[1:8]
    config = {"url": url, "token": token, "mount_point": mount, "scope": scope}
    if namespace != "-":
        config["namespace"] = namespace
    sm = component(
        VaultSecretsManager,
        "zenml-vault",
        VaultSecretsManagerConfig(**config),
        "vault",
        uuid.UUID(component_id),
    )
    run(sm, command, sys.argv[8:])
