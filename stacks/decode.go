package stacks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// decodeStrict decodes raw JSON into dst field by field, so that every
// problem names its full key path (cluster.pools[1].minInstances): unknown
// fields (misspelt keys) and wrong types are problems, and a bad field does
// not stop the others from being read. Fields that fail keep their value.
func decodeStrict(path string, raw json.RawMessage, dst reflect.Value, probs *Problems) {
	if isNull(raw) {
		return
	}
	switch dst.Kind() {
	case reflect.Pointer:
		v := reflect.New(dst.Type().Elem())
		before := len(*probs)
		decodeStrict(path, raw, v.Elem(), probs)
		if len(*probs) == before {
			dst.Set(v)
		}
	case reflect.Struct:
		var fields map[string]json.RawMessage
		if !unmarshal(path, raw, &fields, "an object", probs) {
			return
		}
		byTag := map[string]int{}
		for i := range dst.NumField() {
			tag, _, _ := strings.Cut(dst.Type().Field(i).Tag.Get("json"), ",")
			if tag != "" && tag != "-" {
				byTag[tag] = i
			}
		}
		for _, k := range sortedKeys(fields) {
			i, ok := byTag[k]
			if !ok {
				if moved, was := movedFields[path+"."+k]; was {
					probs.add(path, "unknown field %q: %s", k, moved)
					continue
				}
				probs.add(path, "unknown field %q", k)
				continue
			}
			decodeStrict(path+"."+k, fields[k], dst.Field(i), probs)
		}
	case reflect.Slice:
		var items []json.RawMessage
		if !unmarshal(path, raw, &items, "a list", probs) {
			return
		}
		s := reflect.MakeSlice(dst.Type(), len(items), len(items))
		for i, item := range items {
			decodeStrict(fmt.Sprintf("%s[%d]", path, i), item, s.Index(i), probs)
		}
		dst.Set(s)
	case reflect.Map:
		var entries map[string]json.RawMessage
		if !unmarshal(path, raw, &entries, "an object", probs) {
			return
		}
		m := reflect.MakeMapWithSize(dst.Type(), len(entries))
		for _, k := range sortedKeys(entries) {
			v := reflect.New(dst.Type().Elem()).Elem()
			before := len(*probs)
			decodeStrict(fmt.Sprintf("%s[%q]", path, k), entries[k], v, probs)
			if len(*probs) == before {
				m.SetMapIndex(reflect.ValueOf(k), v)
			}
		}
		dst.Set(m)
	default:
		v := reflect.New(dst.Type())
		if unmarshal(path, raw, v.Interface(), describeType(dst.Type().String()), probs) {
			dst.Set(v.Elem())
		}
	}
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// unmarshal decodes one JSON value, reporting a type mismatch as "got a
// JSON string, want an integer".
func unmarshal(path string, raw json.RawMessage, dst any, want string, probs *Problems) bool {
	if err := json.Unmarshal(raw, dst); err != nil {
		probs.add(path, "got %s, want %s", jsonKind(raw), want)
		return false
	}
	return true
}

func jsonKind(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '{':
		return "a JSON object"
	case '[':
		return "a JSON list"
	case '"':
		return "a JSON string"
	case 't', 'f':
		return "a JSON boolean"
	case 'n':
		return "null"
	}
	return "a JSON number"
}

func describeType(goType string) string {
	switch strings.TrimPrefix(goType, "*") {
	case "int":
		return "an integer"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	}
	return "a " + goType
}

// movedFields are fields that moved elsewhere, by path, and where to: a
// stack file written before says what to do instead of only "unknown".
var movedFields = map[string]string{
	KeySecurity + ".oidc.clientId": "it is the top-level key " + KeyOIDCClientID + " now (`pulumi config set " + KeyOIDCClientID + " <id>`)",
}
