// Package schema holds the JSON Schema of rsprep's -o json output
// (rsprep.schema.json) and a validator for the keywords that schema uses.
//
// Why a small validator and not a library: the dependency rule allows
// none, and a Python jsonschema run from Go tests would make every test
// that prints JSON depend on a Debian package. The validator knows only
// the keywords below and rejects a schema that uses any other, so the
// schema cannot grow a rule the tests silently ignore.
package schema

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

//go:embed rsprep.schema.json
var document []byte

// Version is the schema version rsprep prints as "schema".
const Version = 1

// Validate checks one JSON document against rsprep.schema.json and
// returns every violation, each with its JSON path.
func Validate(data []byte) error {
	var root map[string]any
	if err := json.Unmarshal(document, &root); err != nil {
		return fmt.Errorf("rsprep.schema.json: %w", err)
	}
	return ValidateWith(root, data)
}

// ValidateWith checks data against the schema root.
func ValidateWith(root map[string]any, data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return fmt.Errorf("more than one JSON value")
	}
	c := checker{root: root}
	c.check("$", root, v)
	if len(c.errs) > 0 {
		return fmt.Errorf("%s", strings.Join(c.errs, "; "))
	}
	return nil
}

type checker struct {
	root map[string]any
	errs []string
}

func (c *checker) fail(path, format string, a ...any) {
	c.errs = append(c.errs, path+": "+fmt.Sprintf(format, a...))
}

// annotations are keywords that describe and never constrain.
var annotations = []string{"$schema", "$id", "$defs", "title", "description"}

func (c *checker) check(path string, s map[string]any, v any) {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys) // violations in a stable order
	for _, k := range keys {
		arg := s[k]
		switch k {
		case "$ref":
			c.check(path, c.resolve(arg.(string)), v)
		case "oneOf":
			c.oneOf(path, arg.([]any), v)
		case "type":
			if got := typeOf(v); got != arg && !(arg == "number" && got == "integer") {
				c.fail(path, "is %s, want %s", got, arg)
			}
		case "const":
			if !equal(v, arg) {
				c.fail(path, "is %v, want %v", v, arg)
			}
		case "enum":
			if !slices.ContainsFunc(arg.([]any), func(e any) bool { return equal(v, e) }) {
				c.fail(path, "%v is not one of %v", v, arg)
			}
		case "minimum":
			if n, ok := v.(json.Number); ok {
				if f, err := n.Float64(); err == nil && f < arg.(float64) {
					c.fail(path, "%v is below %v", n, arg)
				}
			}
		case "minLength":
			if str, ok := v.(string); ok && float64(len([]rune(str))) < arg.(float64) {
				c.fail(path, "shorter than %v", arg)
			}
		case "pattern":
			if str, ok := v.(string); ok && !regexp.MustCompile(arg.(string)).MatchString(str) {
				c.fail(path, "%q does not match %s", str, arg)
			}
		case "required":
			if obj, ok := v.(map[string]any); ok {
				for _, name := range arg.([]any) {
					if _, ok := obj[name.(string)]; !ok {
						c.fail(path, "no %q", name)
					}
				}
			}
		case "properties":
			if obj, ok := v.(map[string]any); ok {
				props := arg.(map[string]any)
				for name, sub := range props {
					if x, ok := obj[name]; ok {
						c.check(path+"."+name, sub.(map[string]any), x)
					}
				}
			}
		case "additionalProperties":
			obj, ok := v.(map[string]any)
			props, _ := s["properties"].(map[string]any)
			if ok && arg == false {
				for name := range obj {
					if _, known := props[name]; !known {
						c.fail(path, "undocumented key %q", name)
					}
				}
			}
		case "items":
			if list, ok := v.([]any); ok {
				for i, x := range list {
					c.check(fmt.Sprintf("%s[%d]", path, i), arg.(map[string]any), x)
				}
			}
		default:
			if !slices.Contains(annotations, k) {
				c.fail(path, "the schema uses %q, which this validator does not know", k)
			}
		}
	}
}

// oneOf wants v to match exactly one of alts; when it matches none, it
// reports each alternative's violations.
func (c *checker) oneOf(path string, alts []any, v any) {
	var why []string
	matched := 0
	for i, alt := range alts {
		sub := checker{root: c.root}
		sub.check(path, alt.(map[string]any), v)
		if len(sub.errs) == 0 {
			matched++
		} else {
			why = append(why, fmt.Sprintf("[%d] %s", i, strings.Join(sub.errs, "; ")))
		}
	}
	switch {
	case matched == 0:
		c.fail(path, "matches none of oneOf: %s", strings.Join(why, " | "))
	case matched > 1:
		c.fail(path, "matches %d of oneOf, want exactly one", matched)
	}
}

// resolve follows a local reference, "#/$defs/NAME".
func (c *checker) resolve(ref string) map[string]any {
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	defs, _ := c.root["$defs"].(map[string]any)
	s, _ := defs[name].(map[string]any)
	if !ok || s == nil {
		c.fail(ref, "unresolvable $ref")
		return map[string]any{}
	}
	return s
}

// typeOf is v's JSON Schema type (v decoded with UseNumber).
func typeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "integer"
		}
		return "number"
	}
	return "unknown"
}

// equal compares a decoded value with a schema literal (numbers in the
// schema are float64, in the document json.Number).
func equal(v, lit any) bool {
	if n, ok := v.(json.Number); ok {
		f, err := n.Float64()
		return err == nil && f == lit
	}
	return v == lit
}
