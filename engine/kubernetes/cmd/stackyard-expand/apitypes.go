package main

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/kinds"
	kscheme "k8s.io/client-go/kubernetes/scheme"
)

// apiTypes describes, for every built-in kind the provider normalises, the Go type the provider
// converts it to and back: each field's JSON name, whether it is omitted when empty, and its
// type. stackyard applies the same conversion offline to the objects a program registers, from
// this table (stackyard/apitypes.json), without Go; the expander's "objects" mode is the oracle.
//
// A type is written as a string: a scalar ("string", "bool", "int", "float", "bytes"), a
// custom-converted type by its Go name ("resource.Quantity", "intstr.IntOrString", "v1.Time", ...),
// "*T" (a pointer), "[]T", "map[]T" (string keys), or a struct's package path and name.
type field struct {
	Type      string `json:"t"`
	OmitEmpty bool   `json:"o,omitempty"`
}

type table struct {
	// KnownGroupVersions are the API versions whose objects the provider converts (kinds.KnownGroupVersions).
	KnownGroupVersions []string `json:"knownGroupVersions"`
	// ReadOnlyMetadata are the metadata fields the provider removes from every object.
	ReadOnlyMetadata []string                    `json:"readOnlyMetadata"`
	Kinds            map[string]string           `json:"kinds"`
	Structs          map[string]map[string]field `json:"structs"`
}

var (
	marshaler   = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	unmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
)

func apiTypes() table {
	t := table{
		KnownGroupVersions: kinds.KnownGroupVersions.SortedValues(),
		ReadOnlyMetadata:   readOnlyMetadata,
		Kinds:              map[string]string{},
		Structs:            map[string]map[string]field{},
	}
	for gvk, goType := range kscheme.Scheme.AllKnownTypes() {
		if !kinds.KnownGroupVersions.Has(gvk.GroupVersion().String()) {
			continue
		}
		t.Kinds[gvk.GroupVersion().String()+"/"+gvk.Kind] = t.describe(goType)
	}
	return t
}

func (t table) describe(goType reflect.Type) string {
	if custom(goType) {
		return customName(goType)
	}
	switch goType.Kind() {
	case reflect.Pointer:
		return "*" + t.describe(goType.Elem())
	case reflect.Slice:
		if goType.Elem().Kind() == reflect.Uint8 {
			return "bytes"
		}
		return "[]" + t.describe(goType.Elem())
	case reflect.Map:
		return "map[]" + t.describe(goType.Elem())
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.Interface:
		return "any"
	case reflect.Struct:
		name := goType.PkgPath() + "." + goType.Name()
		if _, seen := t.Structs[name]; !seen {
			fields := map[string]field{}
			t.Structs[name] = fields // before the fields, so a recursive type ends here
			t.addFields(goType, fields)
		}
		return name
	default:
		return "unsupported:" + goType.Kind().String()
	}
}

// addFields adds a struct's fields as the converter reads them: JSON names, inline structs
// flattened, "-" skipped.
func (t table) addFields(goType reflect.Type, fields map[string]field) {
	for i := 0; i < goType.NumField(); i++ {
		structField := goType.Field(i)
		if !structField.IsExported() {
			continue
		}
		tag := structField.Tag.Get("json")
		name, options, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		omitEmpty := false
		for _, option := range strings.Split(options, ",") {
			omitEmpty = omitEmpty || option == "omitempty"
		}
		if name == "" && strings.Contains(","+options+",", ",inline,") || (name == "" && structField.Anonymous) {
			t.addFields(structField.Type, fields)
			continue
		}
		if name == "" {
			name = structField.Name
		}
		fields[name] = field{Type: t.describe(structField.Type), OmitEmpty: omitEmpty}
	}
}

// custom types convert themselves (a JSON marshaller), so their shape is theirs, not their fields'.
func custom(goType reflect.Type) bool {
	if goType.Kind() == reflect.Pointer || goType.Kind() == reflect.Interface {
		return false
	}
	return goType.Implements(marshaler) || reflect.PointerTo(goType).Implements(marshaler) ||
		reflect.PointerTo(goType).Implements(unmarshaler)
}

func customName(goType reflect.Type) string {
	path := goType.PkgPath()
	return path[strings.LastIndex(path, "/")+1:] + "." + goType.Name()
}
