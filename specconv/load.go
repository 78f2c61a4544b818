package specconv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrun/berth/libcontainer"
)

// Options are the command-line facts that shape the config.
type Options struct {
	NoPivot, NoNewKeyring, SystemdCgroup, Rootless bool
}

// configName is the file an OCI bundle keeps its configuration in.
const configName = "config.json"

// Load reads bundle/config.json, validates it and returns the Config for
// container id. bundle may be relative; it is made absolute so that the
// Config (which outlives the current directory of this process) is usable
// from anywhere. id is assumed to be valid already.
func Load(bundle, id string, opts Options) (*libcontainer.Config, error) {
	dir, err := bundleDir(bundle)
	if err != nil {
		return nil, err
	}
	spec, err := readSpec(filepath.Join(dir, configName))
	if err != nil {
		return nil, err
	}
	rootfs, err := validate(spec, dir, opts)
	if err != nil {
		return nil, err
	}
	return &libcontainer.Config{
		ID:            id,
		Bundle:        dir,
		Rootfs:        rootfs,
		Spec:          spec,
		Namespaces:    namespacesOf(spec.Linux),
		CgroupsPath:   spec.Linux.CgroupsPath,
		NoPivot:       opts.NoPivot,
		NoNewKeyring:  opts.NoNewKeyring,
		SystemdCgroup: opts.SystemdCgroup,
		Rootless:      opts.Rootless,
	}, nil
}

// bundleDir returns the absolute path of bundle after checking that it is a
// directory, so that a typo in --bundle is reported as such rather than as a
// missing config.json.
func bundleDir(bundle string) (string, error) {
	dir, err := filepath.Abs(bundle)
	if err != nil {
		return "", badValue("bundle", bundle, "%v", err)
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", badValue("bundle", dir, "no such directory")
	case err != nil:
		return "", badValue("bundle", dir, "%v", unwrapPathError(err))
	case !st.IsDir():
		return "", badValue("bundle", dir, "not a directory")
	}
	return dir, nil
}

// readSpec reads and decodes one config.json.
func readSpec(path string) (*specs.Spec, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w (create one with \"berth spec\")", configName, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", configName, err)
	}
	return decodeSpec(data)
}

// decodeSpec parses config.json. Unknown fields are ignored, as every OCI
// runtime does, so that bundles written for newer spec versions still run.
func decodeSpec(data []byte) (*specs.Spec, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s: empty file (create one with \"berth spec\")", configName)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, describeJSONError(configName, data, err)
	}
	return &spec, nil
}

// describeJSONError turns encoding/json's byte offsets into the line and
// column a person editing the document (config.json, a process file) can go to.
func describeJSONError(doc string, data []byte, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		line, col := position(data, syntax.Offset)
		return fmt.Errorf("%s: invalid JSON at line %d, column %d: %s", doc, line, col, syntax.Error())
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset)
		field := typ.Field
		if field == "" {
			field = "top level"
		}
		return fmt.Errorf("%s: %s at line %d, column %d: got a JSON %s, want %s",
			doc, field, line, col, typ.Value, describeType(typ.Type))
	default:
		return fmt.Errorf("%s: %w", doc, err)
	}
}

// position returns the 1-based line and column of the byte that
// encoding/json stopped at. Its offsets count the bytes read, so the culprit
// is the byte just before the offset.
func position(data []byte, offset int64) (line, col int) {
	i := int(offset) - 1
	if i < 0 {
		i = 0
	}
	if i > len(data) {
		i = len(data)
	}
	before := data[:i]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = i - bytes.LastIndexByte(before, '\n')
	return line, col
}

// describeType names a Go type the way a config.json author thinks of it.
func describeType(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("an integer (%s)", t.Kind())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("a non-negative integer (%s)", t.Kind())
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return describeType(t.Elem())
	default:
		return t.String()
	}
}

// namespacesOf lists the spec's namespaces in the order the spec gives them:
// that order is the order nsenter joins and creates them in.
func namespacesOf(linux *specs.Linux) []libcontainer.Namespace {
	out := make([]libcontainer.Namespace, 0, len(linux.Namespaces))
	for _, ns := range linux.Namespaces {
		out = append(out, libcontainer.Namespace{Type: ns.Type, Path: ns.Path})
	}
	return out
}

// unwrapPathError drops the "stat /path:" prefix of a *fs.PathError: the
// messages here already name the path.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
