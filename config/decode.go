package config

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lettrage/lettrage/connectors"
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

// decode stores n into v (addressable): aliases followed, the value
// counted, null keeping the default, then by v's type.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n = deref(n)
	if n == nil || !d.count(n, path) {
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // keep the default
	}
	switch {
	case v.Kind() == reflect.Pointer && !v.Type().Implements(textUnmarshaler):
		d.decodePointer(n, v, path)
	case v.CanAddr() && v.Addr().Type().Implements(textUnmarshaler):
		d.decodeText(n, v, path)
	default:
		d.decodeValue(n, v, path)
	}
}

// deref follows documents and aliases to the node they hold; nil for an
// empty document.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
			continue
		}
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	return n
}

// count counts one more value decoded and notes its line under path; false
// once the values exceed maxNodes (reported once).
func (d *decoder) count(n *yaml.Node, path string) bool {
	if d.nodes++; d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.fail(n, path, "too many values (more than %d, aliases included)", maxNodes)
		}
		return false
	}
	if path != "" {
		d.lines[path] = n.Line
	}
	return true
}

// decodePointer decodes n into what v points to, allocating it (with its
// defaults) when v is nil.
func (d *decoder) decodePointer(n *yaml.Node, v reflect.Value, path string) {
	if !v.IsNil() {
		d.decode(n, v.Elem(), path)
		return
	}
	nv := reflect.New(v.Type().Elem())
	if df, ok := nv.Interface().(defaulter); ok {
		df.setDefaults()
	}
	before := len(d.problems)
	d.decode(n, nv.Elem(), path)
	// A scalar that failed to decode stays unset (its default), so that
	// validation does not report it a second time.
	if nv.Elem().Kind() == reflect.Struct || len(d.problems) == before {
		v.Set(nv)
	}
}

// decodeText decodes a scalar into a value that reads itself from text
// (domain.Amount…).
func (d *decoder) decodeText(n *yaml.Node, v reflect.Value, path string) {
	s, ok := d.scalar(n, path, "a value")
	if !ok {
		return
	}
	if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
		d.fail(n, path, "%v", err)
	}
}

// decodeValue decodes n into v by v's kind.
func (d *decoder) decodeValue(n *yaml.Node, v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.String:
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		d.decodeBool(n, v, path)
	case reflect.Int64:
		if v.Type() == durationType {
			d.decodeDuration(n, v, path)
			return
		}
		d.decodeInt(n, v, path)
	case reflect.Int, reflect.Int32:
		d.decodeInt(n, v, path)
	case reflect.Float64:
		d.decodeFloat(n, v, path)
	default:
		d.fail(n, path, "cannot be set (internal: unsupported type %s)", v.Type())
	}
}

// decodeSlice decodes a list, each element starting from its defaults.
func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
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
}

func (d *decoder) decodeBool(n *yaml.Node, v reflect.Value, path string) {
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
}

func (d *decoder) decodeDuration(n *yaml.Node, v reflect.Value, path string) {
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
}

func (d *decoder) decodeFloat(n *yaml.Node, v reflect.Value, path string) {
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

// decodeStruct decodes a mapping into a struct by its yaml tags; in a
// blockSet (Source, Ledger), a key that is no field but a registered type
// is that type's block.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got %s", kindName(n))
		return
	}
	fields := fieldsOf(v.Type())
	bs, _ := blockSetOf(v)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		p := join(path, key)
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "a key must be a plain name")
			continue
		}
		idx, isField := fields[key]
		isBlock := !isField && bs != nil && registered(bs.registry(), key)
		switch {
		case !isField && !isBlock:
			d.fail(k, p, "unknown key")
		case seen[key]:
			d.fail(k, p, "duplicate key")
		case isField:
			seen[key] = true
			d.decode(val, v.Field(idx), p)
		default:
			seen[key] = true
			d.decodeBlock(val, bs, key, p)
		}
	}
}

// blockSetOf returns v (a struct) as a blockSet, when it is one.
func blockSetOf(v reflect.Value) (blockSet, bool) {
	if !v.CanAddr() {
		c := reflect.New(v.Type()).Elem()
		c.Set(v)
		v = c
	}
	bs, ok := v.Addr().Interface().(blockSet)
	return bs, ok
}

func registered(r kindRegistry, kind string) bool {
	_, ok := r.NewConfig(kind)
	return ok
}

// decodeBlock decodes the block of a registered type into a new value of
// the Config type its connector registered; a null block stays unset.
func (d *decoder) decodeBlock(n *yaml.Node, bs blockSet, kind, path string) {
	cfg, _ := bs.registry().NewConfig(kind)
	pv := reflect.New(reflect.TypeOf(cfg)).Elem() // a nil *T, decoded as any pointer field
	d.decode(n, pv, path)
	if pv.Kind() != reflect.Pointer || pv.IsNil() {
		return
	}
	m := bs.blocks()
	if *m == nil {
		*m = map[string]connectors.Config{}
	}
	(*m)[kind] = pv.Interface().(connectors.Config)
}

// blockNames returns the types of the blocks set, sorted.
func blockNames(m map[string]connectors.Config) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
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
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			d.finish(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Struct:
		if v.CanAddr() && v.Addr().Type().Implements(textUnmarshaler) {
			return
		}
		d.finishFields(v, path)
		d.loadSecrets(v, path)
		if bs, ok := blockSetOf(v); ok {
			for _, kind := range blockNames(*bs.blocks()) {
				d.finish(reflect.ValueOf((*bs.blocks())[kind]), join(path, kind))
			}
		}
	}
}

// finishFields resolves the relative paths among a struct's fields and
// finishes each field.
func (d *decoder) finishFields(v reflect.Value, path string) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, ok := yamlName(f)
		if !ok {
			continue
		}
		fv := v.Field(i)
		isPath := hasTag(f, "path") || strings.HasSuffix(name, "_file")
		if isPath && fv.Kind() == reflect.String && fv.String() != "" && !filepath.IsAbs(fv.String()) {
			fv.SetString(filepath.Join(d.baseDir, fv.String()))
		}
		d.finish(fv, join(path, name))
	}
}

// loadSecrets reads each x_file field of a struct into its x sibling and
// empties x_file.
func (d *decoder) loadSecrets(v reflect.Value, path string) {
	t := v.Type()
	names := fieldsOf(t)
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
		return canonicalStruct(v)
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

// canonicalStruct is a struct's canonical form: its fields by yaml name
// and, for a blockSet, its blocks by type (canonicalNulls as null when not
// set).
func canonicalStruct(v reflect.Value) map[string]any {
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
	if bs, ok := blockSetOf(v); ok {
		for _, kind := range canonicalNulls[bs.registry().Port()] {
			out[kind] = nil
		}
		for kind, cfg := range *bs.blocks() {
			out[kind] = canonical(reflect.ValueOf(cfg))
		}
	}
	return out
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
