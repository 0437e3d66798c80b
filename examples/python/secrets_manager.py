"""The flavor's managers: each keeps its secrets in `secrets.json` in the
storage folder secman grants it.

componentize-py looks for the class of the `manager` resource in a module
named after its interface, `secrets-manager`: this one.
"""

import json
import os
from typing import List, Tuple

from componentize_py_types import Err
from wit_world.exports import secrets_manager as contract
from wit_world.imports import log, types

FILE_NAME = "secrets.json"


class Manager(contract.Manager):
    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    def open(cls, options: List[Tuple[str, str]]) -> "Manager":
        folder = dict(options).get("storage")
        if folder is None:
            raise Err(types.Error_Denied(
                "this flavor keeps secrets in a file, but it was granted no "
                "storage: grant it with `secman flavor grant NAME --allow-storage`"
            ))
        return cls(os.path.join(folder, FILE_NAME))

    def register_secret(self, secret: types.Secret) -> None:
        secrets = self._load()
        if secret.name in secrets:
            raise Err(types.Error_AlreadyExists(f"secret `{secret.name}` already exists"))
        secrets[secret.name] = _entry(secret)
        self._save(secrets)

    def get_secret(self, name: str) -> types.Secret:
        entry = self._load().get(name)
        if entry is None:
            raise Err(types.Error_NotFound(f"secret `{name}` does not exist"))
        return types.Secret(name=name, schema=entry["schema"], values=list(entry["values"].items()))

    def get_all_secret_keys(self) -> List[str]:
        return list(self._load())

    def update_secret(self, secret: types.Secret) -> None:
        secrets = self._load()
        if secret.name not in secrets:
            raise Err(types.Error_NotFound(f"secret `{secret.name}` does not exist"))
        secrets[secret.name] = _entry(secret)
        self._save(secrets)

    def delete_secret(self, name: str) -> None:
        secrets = self._load()
        if secrets.pop(name, None) is None:
            raise Err(types.Error_NotFound(f"secret `{name}` does not exist"))
        self._save(secrets)

    def delete_all_secrets(self, force: bool) -> None:
        if not force:
            raise Err(types.Error_Invalid("delete-all deletes every secret: pass force to mean it"))
        self._save({})

    def _load(self) -> dict:
        try:
            with open(self.path, encoding="utf-8") as file:
                return json.load(file)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise Err(types.Error_Backend(f"cannot read {self.path}: {error}"))

    def _save(self, secrets: dict) -> None:
        # A whole new file, then a rename: a reader never sees half of it.
        temporary = self.path + ".tmp"
        try:
            with open(temporary, "w", encoding="utf-8") as file:
                json.dump(secrets, file, ensure_ascii=False, indent=1)
            os.replace(temporary, self.path)
        except OSError as error:
            raise Err(types.Error_Backend(f"cannot write {self.path}: {error}"))
        log.log(log.Level.DEBUG, f"wrote {len(secrets)} secrets to {self.path}")


def _entry(secret: types.Secret) -> dict:
    return {"schema": secret.schema, "values": dict(secret.values)}
