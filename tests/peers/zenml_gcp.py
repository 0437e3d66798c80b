"""ZenML 0.52.0's own GCP secrets manager, driven from the tests.

Nothing here re-implements ZenML: every read and write goes through
`zenml.integrations.gcp.secrets_manager.gcp_secrets_manager.GCPSecretsManager`.
ZenML hard-wires a gRPC client to Google; the one thing replaced is the
class's `CLIENT`, filled with Google's REST client aimed at the emulator.

    python zenml_gcp.py ENDPOINT PROJECT SCOPE NAMESPACE UUID COMMAND [NAME...]

SCOPE is none, global, component or namespace; NAMESPACE is `-` outside
the namespace scope; UUID is the component's id (secman's manager uuid).
COMMAND is one of zenml_common.py's (decode, register, update, delete).
"""

import sys
import uuid

from zenml_common import component, run
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import secretmanager
from zenml.integrations.gcp.flavors.gcp_secrets_manager_flavor import GCPSecretsManagerConfig
from zenml.integrations.gcp.secrets_manager.gcp_secrets_manager import GCPSecretsManager

if __name__ == "__main__":
    endpoint, project, scope, namespace, component_id, command = sys.argv[1:7]
    GCPSecretsManager.CLIENT = secretmanager.SecretManagerServiceClient(
        transport="rest",
        client_options=ClientOptions(api_endpoint=endpoint),
        credentials=AnonymousCredentials(),
    )
    config = {"project_id": project, "scope": scope}
    if namespace != "-":
        config["namespace"] = namespace
    sm = component(
        GCPSecretsManager,
        "zenml-sm",
        GCPSecretsManagerConfig(**config),
        "gcp",
        uuid.UUID(component_id),
    )
    run(sm, command, sys.argv[7:])
