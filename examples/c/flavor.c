// A secman flavor in C: secrets in `secrets.tsv`, in the storage folder
// secman grants each manager, one secret a line: its name, its schema,
// then its keys and values, separated by tabs, with `\`, tab, CR and LF
// escaped.
//
// `wit-bindgen c` generates flavor.h and flavor.c from wit/ (build.sh runs
// it). Strings the host hands in belong to this code and are freed here;
// what goes back must be malloc'd (the generated post-return frees it).

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flavor.h"

#define FILE_NAME "secrets.tsv"

typedef flavor_string_t string_t;
typedef exports_secman_flavor_secrets_manager_error_t error_t;
typedef exports_secman_flavor_secrets_manager_secret_t secret_t;

struct exports_secman_flavor_secrets_manager_manager_t {
  char *path;
};
typedef exports_secman_flavor_secrets_manager_manager_t manager_t;

// One line of the file: the escaped name, and the whole line.
typedef struct {
  char *name;
  char *line;
} entry_t;

typedef struct {
  entry_t *items;
  size_t len;
} store_t;

static bool fail(error_t *err, uint8_t tag, const char *what, const char *name) {
  char message[512];
  snprintf(message, sizeof message, what, name);
  err->tag = tag;
  flavor_string_dup(&err->val.not_found, message);  // every variant is a string
  return false;
}

static char *cstring(const string_t *s) {
  char *text = malloc(s->len + 1);
  memcpy(text, s->ptr, s->len);
  text[s->len] = 0;
  return text;
}

// Appends `s` to `out`, escaped.
static void escape(char **out, size_t *len, size_t *cap, const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (*len + 3 > *cap) {
      *cap = *cap * 2 + 64;
      *out = realloc(*out, *cap);
    }
    char c = (char)s[i];
    const char *special = c == '\\' ? "\\\\" : c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : NULL;
    if (special) {
      memcpy(*out + *len, special, 2);
      *len += 2;
    } else {
      (*out)[(*len)++] = c;
    }
  }
  (*out)[*len] = 0;
}

// The next tab-separated field of `*at`, unescaped.
static void field(const char **at, string_t *ret) {
  const char *s = *at;
  size_t n = strcspn(s, "\t");
  char *text = malloc(n + 1);
  size_t len = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\\' && i + 1 < n) {
      char c = s[++i];
      text[len++] = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
    } else {
      text[len++] = s[i];
    }
  }
  ret->ptr = (uint8_t *)text;
  ret->len = len;
  *at = s[n] ? s + n + 1 : s + n;
}

static char *line_of(const secret_t *secret) {
  size_t len = 0, cap = 64;
  char *out = malloc(cap);
  out[0] = 0;
  escape(&out, &len, &cap, secret->name.ptr, secret->name.len);
  out[len++] = '\t';
  escape(&out, &len, &cap, secret->schema.ptr, secret->schema.len);
  for (size_t i = 0; i < secret->values.len; i++) {
    out[len++] = '\t';
    escape(&out, &len, &cap, secret->values.ptr[i].f0.ptr, secret->values.ptr[i].f0.len);
    out[len++] = '\t';
    escape(&out, &len, &cap, secret->values.ptr[i].f1.ptr, secret->values.ptr[i].f1.len);
  }
  return out;
}

static char *escaped_name(const string_t *name) {
  size_t len = 0, cap = name->len * 2 + 8;
  char *out = malloc(cap);
  out[0] = 0;
  escape(&out, &len, &cap, name->ptr, name->len);
  return out;
}

static void store_free(store_t *store) {
  for (size_t i = 0; i < store->len; i++) {
    free(store->items[i].name);
    free(store->items[i].line);
  }
  free(store->items);
}

static bool load(const manager_t *m, store_t *store, error_t *err) {
  *store = (store_t){0};
  FILE *file = fopen(m->path, "r");
  if (!file) {
    if (errno == ENOENT) return true;
    return fail(err, SECMAN_FLAVOR_TYPES_ERROR_BACKEND, "cannot read %s", m->path);
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  size_t room = 0;
  while ((n = getline(&line, &cap, file)) > 0) {
    if (line[n - 1] == '\n') line[--n] = 0;
    if (store->len == room) {
      room = room * 2 + 16;
      store->items = realloc(store->items, room * sizeof(entry_t));
    }
    size_t name_len = strcspn(line, "\t");
    entry_t *e = &store->items[store->len++];
    e->name = strndup(line, name_len);
    e->line = strdup(line);
  }
  free(line);
  fclose(file);
  return true;
}

// Writes a whole new file, then renames it: a reader never sees half.
static bool save(const manager_t *m, const store_t *store, error_t *err) {
  char temporary[4096];
  snprintf(temporary, sizeof temporary, "%s.tmp", m->path);
  FILE *file = fopen(temporary, "w");
  if (!file) return fail(err, SECMAN_FLAVOR_TYPES_ERROR_BACKEND, "cannot write %s", m->path);
  for (size_t i = 0; i < store->len; i++) {
    fputs(store->items[i].line, file);
    fputc('\n', file);
  }
  if (fclose(file) != 0 || rename(temporary, m->path) != 0) {
    return fail(err, SECMAN_FLAVOR_TYPES_ERROR_BACKEND, "cannot write %s", m->path);
  }
  return true;
}

static ssize_t find(const store_t *store, const char *name) {
  for (size_t i = 0; i < store->len; i++) {
    if (strcmp(store->items[i].name, name) == 0) return (ssize_t)i;
  }
  return -1;
}

void exports_secman_flavor_secrets_manager_info(exports_secman_flavor_secrets_manager_flavor_info_t *ret) {
  *ret = (exports_secman_flavor_secrets_manager_flavor_info_t){0};
  flavor_string_dup(&ret->name, "example-c");
  flavor_string_dup(&ret->version, "0.1.0");
  flavor_string_dup(&ret->description, "Secrets in a tab-separated file, by a flavor written in C");
  ret->capabilities.storage = true;
  ret->scoped = false;
}

bool exports_secman_flavor_secrets_manager_static_manager_open(
    flavor_list_tuple2_string_string_t *options, exports_secman_flavor_secrets_manager_own_manager_t *ret,
    error_t *err) {
  char *folder = NULL;
  for (size_t i = 0; i < options->len; i++) {
    string_t *key = &options->ptr[i].f0;
    if (key->len == 7 && memcmp(key->ptr, "storage", 7) == 0) folder = cstring(&options->ptr[i].f1);
  }
  flavor_list_tuple2_string_string_free(options);
  if (!folder) {
    return fail(err, SECMAN_FLAVOR_TYPES_ERROR_DENIED,
                "this flavor keeps secrets in a file, but it was granted no storage: grant it "
                "with `secman flavor grant NAME --allow-storage`%s", "");
  }
  manager_t *m = malloc(sizeof *m);
  m->path = malloc(strlen(folder) + sizeof "/" FILE_NAME);
  sprintf(m->path, "%s/%s", folder, FILE_NAME);
  free(folder);
  *ret = exports_secman_flavor_secrets_manager_manager_new(m);
  return true;
}

void exports_secman_flavor_secrets_manager_manager_destructor(manager_t *m) {
  free(m->path);
  free(m);
}

// Registers (`replace` false) or updates (`replace` true) `secret`.
static bool put(manager_t *m, secret_t *secret, bool replace, error_t *err) {
  store_t store;
  bool ok = load(m, &store, err);
  char *name = escaped_name(&secret->name);
  ssize_t at = ok ? find(&store, name) : -1;
  if (ok && replace && at < 0) {
    ok = fail(err, SECMAN_FLAVOR_TYPES_ERROR_NOT_FOUND, "secret `%s` does not exist", name);
  } else if (ok && !replace && at >= 0) {
    ok = fail(err, SECMAN_FLAVOR_TYPES_ERROR_ALREADY_EXISTS, "secret `%s` already exists", name);
  } else if (ok) {
    if (at < 0) {
      store.items = realloc(store.items, (store.len + 1) * sizeof(entry_t));
      at = (ssize_t)store.len++;
      store.items[at] = (entry_t){.name = name, .line = NULL};
      name = NULL;
    }
    free(store.items[at].line);
    store.items[at].line = line_of(secret);
    ok = save(m, &store, err);
  }
  free(name);
  store_free(&store);
  secman_flavor_types_secret_free(secret);
  return ok;
}

bool exports_secman_flavor_secrets_manager_method_manager_register_secret(manager_t *m, secret_t *secret,
                                                                          error_t *err) {
  return put(m, secret, false, err);
}

bool exports_secman_flavor_secrets_manager_method_manager_update_secret(manager_t *m, secret_t *secret,
                                                                        error_t *err) {
  return put(m, secret, true, err);
}

// Loads the store and finds the secret `name_in` (which is freed here): its
// index, or -1 with `err` set.
static ssize_t load_and_find(manager_t *m, string_t *name_in, store_t *store, error_t *err) {
  char *name = escaped_name(name_in);
  flavor_string_free(name_in);
  ssize_t at = -1;
  if (load(m, store, err)) {
    at = find(store, name);
    if (at < 0) fail(err, SECMAN_FLAVOR_TYPES_ERROR_NOT_FOUND, "secret `%s` does not exist", name);
  }
  free(name);
  return at;
}

bool exports_secman_flavor_secrets_manager_method_manager_get_secret(manager_t *m, string_t *name_in,
                                                                     secret_t *ret, error_t *err) {
  store_t store;
  ssize_t at = load_and_find(m, name_in, &store, err);
  if (at >= 0) {
    const char *cursor = store.items[at].line;
    *ret = (secret_t){0};
    field(&cursor, &ret->name);
    field(&cursor, &ret->schema);
    size_t room = 0;
    while (*cursor) {
      if (ret->values.len == room) {
        room = room * 2 + 8;
        ret->values.ptr = realloc(ret->values.ptr, room * sizeof *ret->values.ptr);
      }
      flavor_tuple2_string_string_t *pair = &ret->values.ptr[ret->values.len++];
      field(&cursor, &pair->f0);
      field(&cursor, &pair->f1);
    }
  }
  store_free(&store);
  return at >= 0;
}

bool exports_secman_flavor_secrets_manager_method_manager_get_all_secret_keys(manager_t *m, flavor_list_string_t *ret,
                                                                              error_t *err) {
  store_t store;
  if (!load(m, &store, err)) return false;
  ret->len = store.len;
  ret->ptr = malloc((store.len ? store.len : 1) * sizeof(string_t));
  for (size_t i = 0; i < store.len; i++) {
    const char *cursor = store.items[i].line;
    field(&cursor, &ret->ptr[i]);
  }
  store_free(&store);
  return true;
}

bool exports_secman_flavor_secrets_manager_method_manager_delete_secret(manager_t *m, string_t *name_in,
                                                                        error_t *err) {
  store_t store;
  ssize_t at = load_and_find(m, name_in, &store, err);
  bool ok = at >= 0;
  if (ok) {
    entry_t gone = store.items[at];
    memmove(&store.items[at], &store.items[at + 1], (store.len - at - 1) * sizeof(entry_t));
    store.len--;
    ok = save(m, &store, err);
    free(gone.name);
    free(gone.line);
  }
  store_free(&store);
  return ok;
}

bool exports_secman_flavor_secrets_manager_method_manager_delete_all_secrets(manager_t *m, bool force, error_t *err) {
  if (!force) {
    return fail(err, SECMAN_FLAVOR_TYPES_ERROR_INVALID, "delete-all deletes every secret: pass force to mean it%s",
                "");
  }
  store_t empty = {0};
  return save(m, &empty, err);
}
