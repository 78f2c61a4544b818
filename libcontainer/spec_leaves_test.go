package libcontainer

import (
	"reflect"
	"strings"
)

// specLeaves lists the leaf fields under t by their JSON path: "[]" for an
// element of a list, "{}" for a value of a map ("linux.sysctl{}",
// "mounts[].destination"). A list or map of scalars is one leaf.
func specLeaves(t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		var out []string
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if f.Anonymous && name == "" { // embedded: its fields are the parent's in JSON
				out = append(out, specLeaves(f.Type, prefix)...)
				continue
			}
			if name == "" {
				name = f.Name
			}
			p := name
			if prefix != "" {
				p = prefix + "." + name
			}
			out = append(out, specLeaves(f.Type, p)...)
		}
		return out
	case reflect.Slice, reflect.Array:
		if e := derefType(t.Elem()); e.Kind() == reflect.Struct {
			return specLeaves(e, prefix+"[]")
		}
	case reflect.Map:
		if e := derefType(t.Elem()); e.Kind() == reflect.Struct {
			return specLeaves(e, prefix+"{}")
		}
	}
	return []string{prefix}
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}
