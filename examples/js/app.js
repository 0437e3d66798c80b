// A secman flavor in JavaScript: secrets in `secrets.json`, in the storage
// folder secman grants each manager.
//
// StarlingMonkey, the engine componentize-js builds on, has no `fs`: files
// are reached through WASI's filesystem, imported by the world
// `flavor-with-wasi`. Errors are thrown as `{ tag, val }`, the contract's
// `error` variant: anything else thrown becomes a crash.

import { getDirectories } from 'wasi:filesystem/preopens@0.2.12';
import { log } from 'secman:flavor/log@0.2.0';

const FILE = 'secrets.json';

const fail = (tag, val) => {
  throw { tag, val };
};

// A WASI resource is dropped when disposed, not when collected: a handle
// left open lasts as long as the instance, and secman allows 1,000.
const dispose = Symbol.dispose ?? Symbol.for('dispose');

function storageFolder(path) {
  const found = getDirectories().find(([, mounted]) => mounted === path);
  if (!found) fail('denied', `storage folder ${path} is not mounted`);
  return found[0];
}

function load(folder) {
  let file;
  try {
    file = folder.openAt({}, FILE, {}, { read: true });
  } catch (e) {
    if (e === 'no-entry' || e?.payload === 'no-entry') return {};
    fail('backend', `cannot open ${FILE}: ${e?.payload ?? e}`);
  }
  const chunks = [];
  try {
    let offset = 0n;
    for (;;) {
      const [bytes, end] = file.read(65536n, offset);
      chunks.push(bytes);
      offset += BigInt(bytes.length);
      if (end || bytes.length === 0) break;
    }
  } finally {
    file[dispose]();
  }
  const text = new TextDecoder().decode(concat(chunks));
  try {
    return text ? JSON.parse(text) : {};
  } catch (e) {
    fail('backend', `${FILE} is not JSON: ${e.message}`);
  }
}

function save(folder, secrets) {
  // A whole new file, then a rename: a reader never sees half of it.
  const bytes = new TextEncoder().encode(JSON.stringify(secrets, null, 1));
  try {
    const file = folder.openAt({}, `${FILE}.tmp`, { create: true, truncate: true }, { write: true });
    try {
      let offset = 0;
      while (offset < bytes.length) {
        offset += Number(file.write(bytes.subarray(offset), BigInt(offset)));
      }
    } finally {
      file[dispose]();
    }
    folder.renameAt(`${FILE}.tmp`, folder, FILE);
  } catch (e) {
    fail('backend', `cannot write ${FILE}: ${e?.payload ?? e}`);
  }
  log('debug', `wrote ${Object.keys(secrets).length} secrets`);
}

function concat(chunks) {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

const entry = (secret) => ({ schema: secret.schema, values: Object.fromEntries(secret.values) });

class Manager {
  constructor(folder) {
    this.folder = folder;
  }

  static open(options) {
    const storage = new Map(options).get('storage');
    if (storage === undefined) {
      fail('denied', 'this flavor keeps secrets in a file, but it was granted no storage: ' +
        'grant it with `secman flavor grant NAME --allow-storage`');
    }
    return new Manager(storageFolder(storage));
  }

  registerSecret(secret) {
    const secrets = load(this.folder);
    if (secret.name in secrets) fail('already-exists', `secret \`${secret.name}\` already exists`);
    secrets[secret.name] = entry(secret);
    save(this.folder, secrets);
  }

  getSecret(name) {
    const found = load(this.folder)[name];
    if (!found) fail('not-found', `secret \`${name}\` does not exist`);
    return { name, schema: found.schema, values: Object.entries(found.values) };
  }

  getAllSecretKeys() {
    return Object.keys(load(this.folder));
  }

  updateSecret(secret) {
    const secrets = load(this.folder);
    if (!(secret.name in secrets)) fail('not-found', `secret \`${secret.name}\` does not exist`);
    secrets[secret.name] = entry(secret);
    save(this.folder, secrets);
  }

  deleteSecret(name) {
    const secrets = load(this.folder);
    if (!(name in secrets)) fail('not-found', `secret \`${name}\` does not exist`);
    delete secrets[name];
    save(this.folder, secrets);
  }

  deleteAllSecrets(force) {
    if (!force) fail('invalid', 'delete-all deletes every secret: pass force to mean it');
    save(this.folder, {});
  }
}

export const secretsManager = {
  info() {
    return {
      name: 'example-js',
      version: '0.1.0',
      description: 'Secrets in a JSON file, by a flavor written in JavaScript',
      options: [],
      capabilities: { outboundHosts: [], environment: [], storage: true, files: [] },
      scoped: false,
    };
  },
  Manager,
};
