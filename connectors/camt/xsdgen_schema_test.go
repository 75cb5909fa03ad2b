package camt

// The XSD side of the schema-conformance generator (xsdgen_test.go): a
// reader for the subset of XML Schema the ISO 20022 camt XSDs are written
// in. It refuses any construct it does not know, so that a schema using
// one cannot be half-generated without anyone noticing.

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const xsNS = "http://www.w3.org/2001/XMLSchema"

// xsdKnown are the XML Schema elements readXSD understands. Anything else
// (xs:group, xs:all, xs:complexContent, xs:union, xs:list, xs:import,
// xs:attributeGroup, xs:maxInclusive…) is refused.
var xsdKnown = map[string]bool{
	"schema": true, "element": true, "complexType": true, "simpleType": true,
	"sequence": true, "choice": true, "any": true, "simpleContent": true,
	"extension": true, "attribute": true, "restriction": true,
	"enumeration": true, "pattern": true, "minLength": true, "maxLength": true,
	"length": true, "totalDigits": true, "fractionDigits": true,
	"minInclusive": true, "maxInclusive": true, "annotation": true,
	"documentation": true,
}

// xsdSchema is one parsed schema.
type xsdSchema struct {
	ns       string // targetNamespace
	rootName string // the global element: Document
	rootType string
	complex  map[string]*xsdComplex
	simple   map[string]*xsdSimple
}

// xsdComplex is a complexType: a sequence or a choice of particles, or
// simple content (a simple type plus attributes).
type xsdComplex struct {
	name   string
	choice bool
	parts  []*xsdParticle
	// simple content
	base  string
	attrs []xsdAttr
}

// xsdParticle is an xs:element (or xs:any) inside a sequence or choice.
type xsdParticle struct {
	id       string // Type/Elem, for coverage
	name     string
	typ      string
	min, max int // max < 0: unbounded
	any      bool
}

type xsdAttr struct {
	name, typ string
	required  bool
}

// xsdSimple is a simpleType restriction with its facets (a base that is
// itself a named simple type is folded in).
type xsdSimple struct {
	name           string
	base           string // xs:string, xs:decimal, xs:date, xs:dateTime, xs:boolean, xs:gYearMonth
	enum           []string
	patterns       []string
	patternRE      []*regexp.Regexp
	minLen, maxLen int // -1: none
	totalDigits    int // -1: none
	fractionDigits int // -1: none
	minIncl        string
	maxIncl        string
}

// Raw shapes decoded with encoding/xml.

type xsRaw struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Kids    []xsRaw    `xml:",any"`
}

func (r *xsRaw) attr(name string) string {
	for _, a := range r.Attrs {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// readXSD parses a schema, failing on any construct outside the subset.
func readXSD(data []byte) (*xsdSchema, error) {
	var root xsRaw
	if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil && err != io.EOF {
		return nil, fmt.Errorf("decoding XSD: %w", err)
	}
	if root.XMLName.Space != xsNS || root.XMLName.Local != "schema" {
		return nil, fmt.Errorf("root <%s> is not xs:schema", root.XMLName.Local)
	}
	if err := checkKnown(&root, "schema"); err != nil {
		return nil, err
	}
	s := &xsdSchema{ns: root.attr("targetNamespace"), complex: map[string]*xsdComplex{}, simple: map[string]*xsdSimple{}}
	if root.attr("elementFormDefault") != "qualified" {
		return nil, fmt.Errorf("elementFormDefault %q: only qualified is handled", root.attr("elementFormDefault"))
	}
	rawSimple := map[string]*xsRaw{}
	for i := range root.Kids {
		k := &root.Kids[i]
		name := k.attr("name")
		switch k.XMLName.Local {
		case "element":
			if s.rootName != "" {
				return nil, fmt.Errorf("several global elements (%s, %s)", s.rootName, name)
			}
			s.rootName, s.rootType = name, k.attr("type")
		case "complexType":
			c, err := readComplex(k)
			if err != nil {
				return nil, fmt.Errorf("complexType %s: %w", name, err)
			}
			s.complex[name] = c
		case "simpleType":
			rawSimple[name] = k
		case "annotation":
		default:
			return nil, fmt.Errorf("unhandled global xs:%s %q", k.XMLName.Local, name)
		}
	}
	var resolve func(name string, depth int) (*xsdSimple, error)
	resolve = func(name string, depth int) (*xsdSimple, error) {
		if st, ok := s.simple[name]; ok {
			return st, nil
		}
		k, ok := rawSimple[name]
		if !ok || depth > 10 {
			return nil, fmt.Errorf("unknown simple type %q", name)
		}
		st, err := readSimple(k, func(base string) (*xsdSimple, error) { return resolve(base, depth+1) })
		if err != nil {
			return nil, fmt.Errorf("simpleType %s: %w", name, err)
		}
		s.simple[name] = st
		return st, nil
	}
	for name := range rawSimple {
		if _, err := resolve(name, 0); err != nil {
			return nil, err
		}
	}
	// Every referenced type must exist.
	if s.rootName == "" {
		return nil, fmt.Errorf("no global element")
	}
	if _, ok := s.complex[s.rootType]; !ok {
		return nil, fmt.Errorf("root type %q is not a complexType", s.rootType)
	}
	for _, c := range s.complex {
		for _, p := range c.parts {
			if p.any {
				continue
			}
			if _, ok := s.complex[p.typ]; ok {
				continue
			}
			if _, ok := s.simple[p.typ]; !ok && builtinBase(p.typ) == "" {
				return nil, fmt.Errorf("%s: unknown type %q", p.id, p.typ)
			}
		}
		if c.base != "" {
			if _, ok := s.simple[c.base]; !ok {
				return nil, fmt.Errorf("complexType %s: simple content base %q is not a simple type", c.name, c.base)
			}
		}
		for _, a := range c.attrs {
			if _, ok := s.simple[a.typ]; !ok {
				return nil, fmt.Errorf("complexType %s: attribute %s has unknown type %q", c.name, a.name, a.typ)
			}
		}
	}
	return s, nil
}

func checkKnown(r *xsRaw, path string) error {
	if r.XMLName.Space != xsNS || !xsdKnown[r.XMLName.Local] {
		return fmt.Errorf("%s: unhandled schema construct <%s> (namespace %q)", path, r.XMLName.Local, r.XMLName.Space)
	}
	for i := range r.Kids {
		if err := checkKnown(&r.Kids[i], path+"/"+r.XMLName.Local); err != nil {
			return err
		}
	}
	return nil
}

func occurs(s string, def int) (int, error) {
	switch s {
	case "":
		return def, nil
	case "unbounded":
		return -1, nil
	}
	return strconv.Atoi(s)
}

func readComplex(k *xsRaw) (*xsdComplex, error) {
	c := &xsdComplex{name: k.attr("name")}
	if k.attr("mixed") == "true" || k.attr("abstract") == "true" {
		return nil, fmt.Errorf("mixed or abstract content is not handled")
	}
	if len(k.Kids) != 1 {
		return nil, fmt.Errorf("%d children, want one sequence, choice or simpleContent", len(k.Kids))
	}
	g := &k.Kids[0]
	switch g.XMLName.Local {
	case "sequence", "choice":
		c.choice = g.XMLName.Local == "choice"
		if g.attr("minOccurs") != "" || g.attr("maxOccurs") != "" {
			return nil, fmt.Errorf("occurrence bounds on the %s itself are not handled", g.XMLName.Local)
		}
		for i := range g.Kids {
			e := &g.Kids[i]
			p := &xsdParticle{name: e.attr("name"), typ: e.attr("type")}
			var err error
			if p.min, err = occurs(e.attr("minOccurs"), 1); err != nil {
				return nil, err
			}
			if p.max, err = occurs(e.attr("maxOccurs"), 1); err != nil {
				return nil, err
			}
			switch e.XMLName.Local {
			case "element":
				if p.name == "" || p.typ == "" || len(e.Kids) > 0 {
					return nil, fmt.Errorf("element without name and type, or with an anonymous type")
				}
			case "any":
				if e.attr("namespace") != "##any" {
					return nil, fmt.Errorf("xs:any namespace %q is not handled", e.attr("namespace"))
				}
				p.any, p.name = true, "(any)"
			default:
				// Nested groups do not occur in the camt XSDs.
				return nil, fmt.Errorf("xs:%s inside a %s is not handled", e.XMLName.Local, g.XMLName.Local)
			}
			p.id = c.name + "/" + p.name
			c.parts = append(c.parts, p)
		}
	case "simpleContent":
		if len(g.Kids) != 1 || g.Kids[0].XMLName.Local != "extension" {
			return nil, fmt.Errorf("simpleContent without a single extension")
		}
		ext := &g.Kids[0]
		c.base = ext.attr("base")
		for i := range ext.Kids {
			a := &ext.Kids[i]
			if a.XMLName.Local != "attribute" {
				return nil, fmt.Errorf("xs:%s in an extension is not handled", a.XMLName.Local)
			}
			c.attrs = append(c.attrs, xsdAttr{name: a.attr("name"), typ: a.attr("type"), required: a.attr("use") == "required"})
		}
	default:
		return nil, fmt.Errorf("xs:%s content is not handled", g.XMLName.Local)
	}
	return c, nil
}

// builtinBase maps the XML Schema built-in types the camt XSDs restrict.
func builtinBase(t string) string {
	switch t {
	case "xs:string", "xs:decimal", "xs:date", "xs:dateTime", "xs:boolean", "xs:gYearMonth":
		return t
	}
	return ""
}

func readSimple(k *xsRaw, named func(string) (*xsdSimple, error)) (*xsdSimple, error) {
	st := &xsdSimple{name: k.attr("name"), minLen: -1, maxLen: -1, totalDigits: -1, fractionDigits: -1}
	if len(k.Kids) != 1 || k.Kids[0].XMLName.Local != "restriction" {
		return nil, fmt.Errorf("only xs:restriction is handled (no xs:list, xs:union)")
	}
	r := &k.Kids[0]
	base := r.attr("base")
	if b := builtinBase(base); b != "" {
		st.base = b
	} else {
		parent, err := named(base)
		if err != nil {
			return nil, err
		}
		cp := *parent
		cp.name = st.name
		st = &cp
	}
	for i := range r.Kids {
		f := &r.Kids[i]
		v := f.attr("value")
		num := func() (int, error) { return strconv.Atoi(v) }
		var err error
		switch f.XMLName.Local {
		case "enumeration":
			st.enum = append(st.enum, v)
		case "pattern":
			re, cerr := regexp.Compile(`^(?:` + v + `)$`)
			if cerr != nil {
				return nil, fmt.Errorf("pattern %q: %w", v, cerr)
			}
			st.patterns = append(st.patterns, v)
			st.patternRE = append(st.patternRE, re)
		case "minLength":
			st.minLen, err = num()
		case "maxLength":
			st.maxLen, err = num()
		case "length":
			st.minLen, err = num()
			st.maxLen = st.minLen
		case "totalDigits":
			st.totalDigits, err = num()
		case "fractionDigits":
			st.fractionDigits, err = num()
		case "minInclusive":
			st.minIncl = v
		case "maxInclusive":
			st.maxIncl = v
		case "annotation":
		default:
			return nil, fmt.Errorf("facet xs:%s is not handled", f.XMLName.Local)
		}
		if err != nil {
			return nil, fmt.Errorf("facet %s=%q: %w", f.XMLName.Local, v, err)
		}
	}
	if len(st.patterns) > 1 {
		return nil, fmt.Errorf("several patterns in one restriction are not handled")
	}
	if st.base != "xs:string" && (len(st.patterns) > 0 || st.minLen >= 0 || st.maxLen >= 0) {
		return nil, fmt.Errorf("pattern or length facets on %s are not handled", st.base)
	}
	if st.base != "xs:decimal" && (st.totalDigits >= 0 || st.fractionDigits >= 0 || st.minIncl != "" || st.maxIncl != "") {
		return nil, fmt.Errorf("digit or range facets on %s are not handled", st.base)
	}
	return st, nil
}

// patternsOf lists every distinct pattern of the schema, for the regex
// generator's own test.
func (s *xsdSchema) patternsOf() []string {
	seen := map[string]bool{}
	var out []string
	for _, st := range s.simple {
		for _, p := range st.patterns {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// complexNames returns the complex type names in order, for deterministic
// reports.
func (s *xsdSchema) complexNames() []string {
	out := make([]string, 0, len(s.complex))
	for n := range s.complex {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

const moovModule = "github.com/moov-io/iso20022"

// camtMessages are the messages generated, with their XSD file.
var camtMessages = []string{"camt.052", "camt.053", "camt.054"}

var (
	specDirOnce sync.Once
	specDir     string
	specDirErr  error
)

// moovSpecDir finds docs/specifications/banktocustomer_cash_management_8
// in the moov-io/iso20022 module: with go list, else from the build
// information and the module cache.
func moovSpecDir() (string, error) {
	specDirOnce.Do(func() {
		var dirs []string
		if out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", moovModule).Output(); err == nil {
			dirs = append(dirs, strings.TrimSpace(string(out)))
		}
		if bi, ok := debug.ReadBuildInfo(); ok {
			var cache []string
			if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
				cache = append(cache, strings.TrimSpace(string(out)))
			}
			if gp := os.Getenv("GOPATH"); gp != "" {
				cache = append(cache, filepath.Join(gp, "pkg", "mod"))
			}
			if home, err := os.UserHomeDir(); err == nil {
				cache = append(cache, filepath.Join(home, "go", "pkg", "mod"))
			}
			for _, dep := range bi.Deps {
				if dep.Path == moovModule {
					for _, c := range cache {
						dirs = append(dirs, filepath.Join(c, escapeModulePath(dep.Path)+"@"+dep.Version))
					}
				}
			}
		}
		for _, d := range dirs {
			p := filepath.Join(d, "docs", "specifications", "banktocustomer_cash_management_8")
			if _, err := os.Stat(filepath.Join(p, "camt.053.001.08.xsd")); err == nil {
				specDir = p
				return
			}
		}
		specDirErr = fmt.Errorf("the camt .08 XSDs of %s were not found (looked in %q); run go mod download", moovModule, dirs)
	})
	return specDir, specDirErr
}

// escapeModulePath escapes upper-case letters as the module cache does.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, c := range p {
		if c >= 'A' && c <= 'Z' {
			b.WriteByte('!')
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}

func xsdPath(dir, msg string) string { return filepath.Join(dir, msg+".001.08.xsd") }

// needSpecDir returns moovSpecDir, failing in CI and skipping elsewhere
// when the XSDs cannot be found.
func needSpecDir(t testing.TB) string {
	t.Helper()
	dir, err := moovSpecDir()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return dir
}

// loadCamtSchemas reads the three XSDs.
func loadCamtSchemas(t testing.TB, dir string) map[string]*xsdSchema {
	t.Helper()
	out := map[string]*xsdSchema{}
	for _, msg := range camtMessages {
		data, err := os.ReadFile(xsdPath(dir, msg))
		if err != nil {
			t.Fatal(err)
		}
		s, err := readXSD(data)
		if err != nil {
			t.Fatalf("%s.001.08.xsd: %v", msg, err)
		}
		out[msg] = s
	}
	return out
}
