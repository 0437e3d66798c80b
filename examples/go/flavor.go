// A secman flavor in Go: secrets in `secrets.json`, in the storage folder
// secman grants each manager.
//
// `wit-bindgen go` generates a package per interface from wit/; the code
// implementing an exported interface lives in that interface's package,
// so build.sh copies this file into export_secman_flavor_secrets_manager.
// The generated code has `main`. Go reaches files through os, inside the
// folders the host mounted.
package export_secman_flavor_secrets_manager

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"

	witTypes "go.bytecodealliance.org/pkg/wit/types"
	"wit_component/secman_flavor_log"
	types "wit_component/secman_flavor_types"
)

const fileName = "secrets.json"

// Go's garbage collector runs only where a method that makes garbage ends
// (`defer runtime.GC()`), never on its own. Started by an allocation, it
// reads the clock, which is an import; an allocation in cabi_realloc (the
// host copying arguments in) or in a post-return must not call imports,
// and the call would trap with "cannot leave component instance", now and
// then, as the heap grows.
func init() {
	debug.SetGCPercent(-1)
}

type (
	unit   = witTypes.Unit
	result = witTypes.Result[unit, types.Error]
)

// A manager: the file it keeps its secrets in. pinner and handle are the
// bindings' own.
type Manager struct {
	pinner runtime.Pinner
	handle int32
	path   string
}

func (self *Manager) OnDrop() {}

// entry is one secret as the file holds it.
type entry struct {
	Schema string            `json:"schema"`
	Values map[string]string `json:"values"`
}

func Info() types.FlavorInfo {
	return types.FlavorInfo{
		Name:         "example-go",
		Version:      "0.1.0",
		Description:  "Secrets in a JSON file, by a flavor written in Go",
		Capabilities: types.Capabilities{Storage: true},
	}
}

func ManagerOpen(options []witTypes.Tuple2[string, string]) witTypes.Result[*Manager, types.Error] {
	for _, option := range options {
		if option.F0 == "storage" {
			return witTypes.Ok[*Manager, types.Error](&Manager{path: filepath.Join(option.F1, fileName)})
		}
	}
	return witTypes.Err[*Manager](types.MakeErrorDenied(
		"this flavor keeps secrets in a file, but it was granted no storage: " +
			"grant it with `secman flavor grant NAME --allow-storage`"))
}

func (self *Manager) load() (map[string]entry, *types.Error) {
	secrets := map[string]entry{}
	bytes, err := os.ReadFile(self.path)
	if errors.Is(err, fs.ErrNotExist) {
		return secrets, nil
	}
	if err == nil {
		err = json.Unmarshal(bytes, &secrets)
	}
	if err != nil {
		fail := types.MakeErrorBackend(fmt.Sprintf("cannot read %s: %v", self.path, err))
		return nil, &fail
	}
	return secrets, nil
}

// save writes a whole new file, then renames it: a reader never sees half.
func (self *Manager) save(secrets map[string]entry) result {
	bytes, err := json.MarshalIndent(secrets, "", " ")
	temporary := self.path + ".tmp"
	if err == nil {
		err = os.WriteFile(temporary, bytes, 0o600)
	}
	if err == nil {
		err = os.Rename(temporary, self.path)
	}
	if err != nil {
		return witTypes.Err[unit](types.MakeErrorBackend(fmt.Sprintf("cannot write %s: %v", self.path, err)))
	}
	secman_flavor_log.Log(secman_flavor_log.LevelDebug, fmt.Sprintf("wrote %d secrets", len(secrets)))
	return witTypes.Ok[unit, types.Error](unit{})
}

func toEntry(secret types.Secret) entry {
	values := make(map[string]string, len(secret.Values))
	for _, pair := range secret.Values {
		values[pair.F0] = pair.F1
	}
	return entry{Schema: secret.Schema, Values: values}
}

func notFound(name string) types.Error {
	return types.MakeErrorNotFound(fmt.Sprintf("secret `%s` does not exist", name))
}

// put registers (replace false) or updates (replace true) a secret.
func (self *Manager) put(secret types.Secret, replace bool) result {
	secrets, fail := self.load()
	if fail != nil {
		return witTypes.Err[unit](*fail)
	}
	_, exists := secrets[secret.Name]
	if replace && !exists {
		return witTypes.Err[unit](notFound(secret.Name))
	}
	if !replace && exists {
		return witTypes.Err[unit](types.MakeErrorAlreadyExists(fmt.Sprintf("secret `%s` already exists", secret.Name)))
	}
	secrets[secret.Name] = toEntry(secret)
	return self.save(secrets)
}

func (self *Manager) RegisterSecret(secret types.Secret) result {
	defer runtime.GC()
	return self.put(secret, false)
}

func (self *Manager) UpdateSecret(secret types.Secret) result {
	defer runtime.GC()
	return self.put(secret, true)
}

func (self *Manager) GetSecret(name string) witTypes.Result[types.Secret, types.Error] {
	defer runtime.GC()
	secrets, fail := self.load()
	if fail != nil {
		return witTypes.Err[types.Secret](*fail)
	}
	found, exists := secrets[name]
	if !exists {
		return witTypes.Err[types.Secret](notFound(name))
	}
	values := make([]witTypes.Tuple2[string, string], 0, len(found.Values))
	for key, value := range found.Values {
		values = append(values, witTypes.Tuple2[string, string]{F0: key, F1: value})
	}
	return witTypes.Ok[types.Secret, types.Error](types.Secret{Name: name, Schema: found.Schema, Values: values})
}

func (self *Manager) GetAllSecretKeys() witTypes.Result[[]string, types.Error] {
	defer runtime.GC()
	secrets, fail := self.load()
	if fail != nil {
		return witTypes.Err[[]string](*fail)
	}
	names := make([]string, 0, len(secrets))
	for name := range secrets {
		names = append(names, name)
	}
	return witTypes.Ok[[]string, types.Error](names)
}

func (self *Manager) DeleteSecret(name string) result {
	defer runtime.GC()
	secrets, fail := self.load()
	if fail != nil {
		return witTypes.Err[unit](*fail)
	}
	if _, exists := secrets[name]; !exists {
		return witTypes.Err[unit](notFound(name))
	}
	delete(secrets, name)
	return self.save(secrets)
}

func (self *Manager) DeleteAllSecrets(force bool) result {
	defer runtime.GC()
	if !force {
		return witTypes.Err[unit](types.MakeErrorInvalid("delete-all deletes every secret: pass force to mean it"))
	}
	return self.save(map[string]entry{})
}
