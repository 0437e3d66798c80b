"""A secman flavor in Python: what it is, and its managers (see
secrets_manager.py)."""

from wit_world import exports
from wit_world.imports import types


class SecretsManager(exports.SecretsManager):
    def info(self) -> types.FlavorInfo:
        return types.FlavorInfo(
            name="example-python",
            version="0.1.0",
            description="Secrets in a JSON file, by a flavor written in Python",
            options=[],
            capabilities=types.Capabilities(
                outbound_hosts=[], environment=[], storage=True, files=[]
            ),
            scoped=False,
        )
