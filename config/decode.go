package config

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder maps a yaml.Node tree onto the configuration structs by their
// yaml tags, collecting every problem with its field path. It exists
// because yaml.v3's KnownFields names no path, and because ${ENV}
// expansion must happen per scalar after parsing.
type decoder struct {
	baseDir  string
	env      func(string) (string, bool)
	readFile func(string) ([]byte, error)
	problems []Problem
	lines    map[string]int // field path → line in the file
	nodes    int            // values decoded, bounded by maxNodes
}

// maxNodes bounds the values one configuration may decode to, so that
// aliases cannot expand a small file into a huge amount of work.
const maxNodes = 100000

func reflectValue(p any) reflect.Value { return reflect.ValueOf(p).Elem() }

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.problems = append(d.problems, Problem{Path: path, Msg: fmt.Sprintf(format, args...), Line: line})
}

// withLines adds the line of the closest known path to each problem.
func (d *decoder) withLines(ps []Problem) []Problem {
	for i := range ps {
		for p := ps[i].Path; p != "" && ps[i].Line == 0; p = parentPath(p) {
			ps[i].Line = d.lines[p]
		}
	}
	return ps
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

type defaulter interface{ setDefaults() }

var textUnmarshaler = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()

// decode stores n into v (addressable).
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode {
		if n.Kind == yaml.DocumentNode {
			if len(n.Content) == 0 {
				return
			}
			n = n.Content[0]
		} else {
			n = n.Alias
		}
	}
	if d.nodes++; d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.fail(n, path, "too many values (more than %d, aliases included)", maxNodes)
		}
		return
	}
	if path != "" {
		d.lines[path] = n.Line
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // keep the default
	}
	if v.Kind() == reflect.Pointer && !v.Type().Implements(textUnmarshaler) {
		if v.IsNil() {
			nv := reflect.New(v.Type().Elem())
			if df, ok := nv.Interface().(defaulter); ok {
				df.setDefaults()
			}
			before := len(d.problems)
			d.decode(n, nv.Elem(), path)
			// A scalar that failed to decode stays unset (its default),
			// so that validation does not report it a second time.
			if nv.Elem().Kind() == reflect.Struct || len(d.problems) == before {
				v.Set(nv)
			}
			return
		}
		d.decode(n, v.Elem(), path)
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(textUnmarshaler) {
		s, ok := d.scalar(n, path, "a value")
		if !ok {
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			d.fail(n, path, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, "want a list, got %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			ev := s.Index(i)
			if df, ok := ev.Addr().Interface().(defaulter); ok {
				df.setDefaults()
			}
			d.decode(item, ev, fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.String:
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		s, ok := d.scalar(n, path, "true or false")
		if !ok {
			return
		}
		switch strings.ToLower(s) {
		case "true", "yes", "on":
			v.SetBool(true)
		case "false", "no", "off":
			v.SetBool(false)
		default:
			d.fail(n, path, "want true or false, got %q", s)
		}
	case reflect.Int64:
		if v.Type() != durationType {
			d.decodeInt(n, v, path)
			return
		}
		s, ok := d.scalar(n, path, "a duration")
		if !ok {
			return
		}
		dur, err := time.ParseDuration(s)
		if err != nil {
			d.fail(n, path, "want a duration such as 30s or 5m, got %q", s)
			return
		}
		v.SetInt(int64(dur))
	case reflect.Int, reflect.Int32:
		d.decodeInt(n, v, path)
	case reflect.Float64:
		s, ok := d.scalar(n, path, "a number")
		if !ok {
			return
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(n, path, "want a number, got %q", s)
			return
		}
		v.SetFloat(f)
	default:
		d.fail(n, path, "cannot be set (internal: unsupported type %s)", v.Type())
	}
}

var durationType = reflect.TypeOf(time.Duration(0))

func (d *decoder) decodeInt(n *yaml.Node, v reflect.Value, path string) {
	s, ok := d.scalar(n, path, "an integer")
	if !ok {
		return
	}
	i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, v.Type().Bits())
	if err != nil {
		d.fail(n, path, "want an integer, got %q", s)
		return
	}
	v.SetInt(i)
}

// scalar returns the expanded value of a scalar node.
func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "want %s, got %s", want, kindName(n))
		return "", false
	}
	s, err := expand(n.Value, d.env)
	if err != nil {
		d.fail(n, path, "%v", err)
		return "", false
	}
	return s, true
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got %s", kindName(n))
		return
	}
	fields := fieldsOf(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		p := join(path, key)
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "a key must be a plain name")
			continue
		}
		idx, ok := fields[key]
		if !ok {
			d.fail(k, p, "unknown key")
			continue
		}
		if seen[key] {
			d.fail(k, p, "duplicate key")
			continue
		}
		seen[key] = true
		d.decode(val, v.Field(idx), p)
	}
}

// fieldsOf maps yaml key → field index of a struct type.
func fieldsOf(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		if name, ok := yamlName(t.Field(i)); ok {
			m[name] = i
		}
	}
	return m
}

func yamlName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return "", false
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, true
}

func hasTag(f reflect.StructField, what string) bool {
	for _, t := range strings.Split(f.Tag.Get("lettrage"), ",") {
		if t == what {
			return true
		}
	}
	return false
}

// finish resolves relative paths and loads *_file secrets, depth first.
func (d *decoder) finish(v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			d.finish(v.Elem(), path)
		}
		return
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			d.finish(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		return
	case reflect.Struct:
	default:
		return
	}
	t := v.Type()
	if v.CanAddr() && v.Addr().Type().Implements(textUnmarshaler) {
		return
	}
	names := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, ok := yamlName(f)
		if !ok {
			continue
		}
		names[name] = i
		fv := v.Field(i)
		isPath := hasTag(f, "path") || strings.HasSuffix(name, "_file")
		if isPath && fv.Kind() == reflect.String && fv.String() != "" && !filepath.IsAbs(fv.String()) {
			fv.SetString(filepath.Join(d.baseDir, fv.String()))
		}
		d.finish(fv, join(path, name))
	}
	for i := 0; i < t.NumField(); i++ {
		name, ok := yamlName(t.Field(i))
		if !ok {
			continue
		}
		base, ok := strings.CutSuffix(name, "_file")
		j, sibling := names[base]
		if !ok || !sibling {
			continue
		}
		fileV, secretV := v.Field(i), v.Field(j)
		if fileV.Kind() != reflect.String || secretV.Kind() != reflect.String || fileV.String() == "" {
			continue
		}
		p := join(path, name)
		if secretV.String() != "" {
			d.problems = append(d.problems, Problem{Path: p, Msg: fmt.Sprintf("set either %s or %s, not both", base, name), Line: d.lines[p]})
			continue
		}
		data, err := d.readFile(fileV.String())
		if err != nil {
			d.problems = append(d.problems, Problem{Path: p, Msg: fmt.Sprintf("reading secret file: %v", err), Line: d.lines[p]})
			continue
		}
		s := strings.TrimSuffix(string(data), "\n")
		s = strings.TrimSuffix(s, "\r")
		secretV.SetString(s)
		fileV.SetString("") // connectors see the value only, never both
	}
}

// ErrUnsetVariable is wrapped by expansion errors for a variable that is
// not set and has no default.
var ErrUnsetVariable = errors.New("environment variable not set")

// expand replaces ${NAME} and ${NAME:-default} (default also when NAME is
// empty) with the environment's values; $$ is a literal $, and a $ not
// followed by { or $ is kept as is.
func expand(s string, env func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", errors.New("expanding: unterminated ${")
			}
			expr := s[i+2 : i+2+end]
			name, def, hasDef := strings.Cut(expr, ":-")
			if !validEnvName(name) {
				return "", fmt.Errorf("expanding ${%s}: invalid variable name %q", expr, name)
			}
			val, ok := env(name)
			switch {
			case ok && (val != "" || !hasDef):
				b.WriteString(val)
			case hasDef:
				b.WriteString(def)
			default:
				return "", fmt.Errorf("expanding ${%s}: %w: %s", name, ErrUnsetVariable, name)
			}
			i += 2 + end
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// canonical turns the configuration into maps, lists and scalars keyed by
// yaml names, secrets redacted, for Hash and String. encoding/json sorts
// map keys, which makes the form canonical.
func canonical(v reflect.Value) any {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.CanAddr() {
		if m, ok := v.Addr().Interface().(encoding.TextMarshaler); ok && v.Kind() == reflect.Struct {
			b, _ := m.MarshalText()
			return string(b)
		}
	} else if m, ok := v.Interface().(encoding.TextMarshaler); ok && v.Kind() == reflect.Struct {
		b, _ := m.MarshalText()
		return string(b)
	}
	switch v.Kind() {
	case reflect.Struct:
		out := map[string]any{}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, ok := yamlName(f)
			if !ok {
				continue
			}
			if isSecret(t, f, name) {
				out[name] = redact(v.Field(i).String())
				continue
			}
			out[name] = canonical(v.Field(i))
		}
		return out
	case reflect.Slice:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = canonical(v.Index(i))
		}
		return out
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int32, reflect.Int64:
		if v.Type() == durationType {
			return time.Duration(v.Int()).String()
		}
		return v.Int()
	case reflect.Float64:
		return v.Float()
	}
	return fmt.Sprint(v.Interface())
}

// isSecret reports a field tagged lettrage:"secret", or a string field x of
// a struct that also has an x_file field.
func isSecret(t reflect.Type, f reflect.StructField, name string) bool {
	if hasTag(f, "secret") {
		return true
	}
	if f.Type.Kind() != reflect.String {
		return false
	}
	_, ok := fieldsOf(t)[name+"_file"]
	return ok
}
