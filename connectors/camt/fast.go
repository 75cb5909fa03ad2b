package camt

import (
	"bytes"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// The fast entry path. The streaming structure (document, message,
// statements and everything outside <Ntry>) always goes through
// encoding/xml. For an entry, instead of DecodeElement, the input scans the
// entry's bytes to its end tag (same byte budget and depth limit), and
// fastDecode builds the entry from them with a small scanner that accepts
// only a plain subset of XML: ASCII names with at most one prefix, quoted
// attributes, the five predefined entities, valid UTF-8 text. Anything else
// (comments, CDATA, processing instructions, character references, odd
// names, mismatched tags…) makes it give up, and the same bytes are decoded
// by encoding/xml instead, so results are those of the reference reader.
// The filler mirrors encoding/xml's unmarshalling rules for the struct
// shapes used here (string, []string, struct, *struct, []struct, embedded
// structs, "a>b" paths, ",attr", ",chardata"). TestFastPathEquivalence and
// FuzzFastPath keep both paths equal.

// fnode is one element of an entry.
type fnode struct {
	name  string // local name
	attrs []fattr
	text  []byte // character data directly inside the element
	first *fnode // first child
	last  *fnode // last child
	next  *fnode // next sibling
}

type fattr struct{ name, value string }

type fscanner struct {
	b      []byte
	i      int
	nodes  []fnode // slab
	intern map[string]string
}

func isNameStart(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_'
}

func isNameChar(c byte) bool {
	return isNameStart(c) || c >= '0' && c <= '9' || c == '-' || c == '.'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// rawName reads a name with at most one prefix; it returns the raw name
// and the local part.
func (s *fscanner) rawName() (raw []byte, local []byte, ok bool) {
	start := s.i
	if s.i >= len(s.b) || !isNameStart(s.b[s.i]) {
		return nil, nil, false
	}
	colon := -1
	for s.i < len(s.b) {
		c := s.b[s.i]
		if isNameChar(c) {
			s.i++
			continue
		}
		if c == ':' && colon < 0 && s.i+1 < len(s.b) && isNameStart(s.b[s.i+1]) {
			colon = s.i
			s.i++
			continue
		}
		break
	}
	raw = s.b[start:s.i]
	if colon >= 0 {
		return raw, s.b[colon+1 : s.i], true
	}
	return raw, raw, true
}

// text decodes character data or an attribute value up to stop ('<' or the
// quote), normalising line ends as encoding/xml does. ok is false for
// anything the fast path leaves to encoding/xml.
func (s *fscanner) text(dst []byte, stop byte, attr bool) ([]byte, bool) {
	// A plain run (printable ASCII without '&', '\r', ']') is taken as
	// is; when it is all the element has, dst aliases the input (capacity
	// clipped so that a later append copies).
	j := s.i
	for j < len(s.b) {
		c := s.b[j]
		if c == stop || c == '<' || c == '&' || c == '\r' || c == ']' || c >= 0x80 || c < 0x20 && c != '\t' && c != '\n' {
			break
		}
		j++
	}
	if j > s.i {
		if dst == nil {
			dst = s.b[s.i:j:j]
		} else {
			dst = append(dst, s.b[s.i:j]...)
		}
		s.i = j
	}
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == stop:
			return dst, true
		case c == '<':
			return dst, false
		case c == '&':
			end := bytes.IndexByte(s.b[s.i:min(len(s.b), s.i+8)], ';')
			if end < 0 {
				return dst, false
			}
			switch string(s.b[s.i+1 : s.i+end]) {
			case "lt":
				dst = append(dst, '<')
			case "gt":
				dst = append(dst, '>')
			case "amp":
				dst = append(dst, '&')
			case "apos":
				dst = append(dst, '\'')
			case "quot":
				dst = append(dst, '"')
			default:
				return dst, false
			}
			s.i += end + 1
		case c == '\r':
			if attr {
				return dst, false
			}
			dst = append(dst, '\n')
			s.i++
			if s.i < len(s.b) && s.b[s.i] == '\n' {
				s.i++
			}
		case c == ']':
			if bytes.HasPrefix(s.b[s.i:], []byte("]]>")) {
				return dst, false
			}
			dst = append(dst, c)
			s.i++
		case c < 0x20:
			if c != '\t' && c != '\n' {
				return dst, false
			}
			dst = append(dst, c)
			s.i++
		case c < 0x80:
			dst = append(dst, c)
			s.i++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError || r == 0xFFFE || r == 0xFFFF {
				return dst, false
			}
			dst = append(dst, s.b[s.i:s.i+size]...)
			s.i += size
		}
	}
	return dst, false
}

func (s *fscanner) newNode() *fnode {
	if len(s.nodes) == cap(s.nodes) {
		// A new chunk; earlier nodes stay in the old one.
		s.nodes = make([]fnode, 0, max(256, 2*cap(s.nodes)))
	}
	s.nodes = append(s.nodes, fnode{})
	return &s.nodes[len(s.nodes)-1]
}

// content parses the content of an element whose raw name is open,
// through its end tag.
func (s *fscanner) content(n *fnode, open []byte, depth int) bool {
	if depth > 200 {
		return false
	}
	for {
		var ok bool
		n.text, ok = s.text(n.text, '<', false)
		if !ok && (s.i >= len(s.b) || s.b[s.i] != '<') {
			return false
		}
		if s.i+1 >= len(s.b) {
			return false
		}
		s.i++ // '<'
		switch s.b[s.i] {
		case '/':
			s.i++
			raw, _, ok := s.rawName()
			if !ok || !bytes.Equal(raw, open) {
				return false
			}
			for s.i < len(s.b) && isSpace(s.b[s.i]) {
				s.i++
			}
			if s.i >= len(s.b) || s.b[s.i] != '>' {
				return false
			}
			s.i++
			return true
		case '!', '?':
			return false
		}
		raw, local, ok := s.rawName()
		if !ok {
			return false
		}
		k := s.newNode()
		name, ok := s.intern[string(local)]
		if !ok {
			name = string(local)
			if len(s.intern) < 4096 {
				s.intern[name] = name
			}
		}
		k.name = name
		if n.last == nil {
			n.first = k
		} else {
			n.last.next = k
		}
		n.last = k
		// Attributes.
		for {
			sp := 0
			for s.i < len(s.b) && isSpace(s.b[s.i]) {
				s.i++
				sp++
			}
			if s.i >= len(s.b) {
				return false
			}
			if s.b[s.i] == '>' {
				s.i++
				if !s.content(k, raw, depth+1) {
					return false
				}
				break
			}
			if s.b[s.i] == '/' {
				if s.i+1 >= len(s.b) || s.b[s.i+1] != '>' {
					return false
				}
				s.i += 2
				break
			}
			if sp == 0 {
				return false
			}
			araw, alocal, ok := s.rawName()
			if !ok || len(araw) != len(alocal) { // prefixed attributes: leave to encoding/xml
				return false
			}
			for s.i < len(s.b) && isSpace(s.b[s.i]) {
				s.i++
			}
			if s.i >= len(s.b) || s.b[s.i] != '=' {
				return false
			}
			s.i++
			for s.i < len(s.b) && isSpace(s.b[s.i]) {
				s.i++
			}
			if s.i >= len(s.b) || s.b[s.i] != '"' && s.b[s.i] != '\'' {
				return false
			}
			q := s.b[s.i]
			s.i++
			v, ok := s.text(nil, q, true)
			if !ok {
				return false
			}
			s.i++ // closing quote
			name := string(alocal)
			for _, a := range k.attrs {
				if a.name == name {
					return false
				}
			}
			k.attrs = append(k.attrs, fattr{name, string(v)})
		}
	}
}

// fastDecode fills x from body, the bytes after the start tag of an element
// named open (raw, with prefix) through its end tag. false: not handled,
// x is untouched.
// fastState is what the fast path reuses from one entry to the next.
type fastState struct {
	intern map[string]string
	nodes  []fnode
}

// str converts text to a string, sharing the strings of short codes and
// of white space (CRDT, BOOK, EUR, indentation) instead of allocating them.
func (st *fastState) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > 8 && (len(b) > 64 || len(bytes.TrimLeft(b, " \t\n")) > 0) {
		return string(b)
	}
	if s, ok := st.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(st.intern) < 4096 {
		st.intern[s] = s
	}
	return s
}

func fastDecode(body, open []byte, x any, st *fastState) bool {
	if st.intern == nil {
		st.intern = map[string]string{}
	}
	s := fscanner{b: body, intern: st.intern, nodes: st.nodes[:0]}
	root := &fnode{}
	ok := s.content(root, open, 0) && s.i == len(body)
	if ok {
		fill(st, reflect.ValueOf(x).Elem(), root)
	}
	// Keep the last (largest) chunk of nodes, cleared, for the next entry.
	clear(s.nodes)
	st.nodes = s.nodes[:0]
	return ok
}

// Reflection plans, mirroring encoding/xml's typeinfo for our structs.

type fieldPlan struct {
	index   []int
	parents []string
	name    string
	kind    int // planElem, planAttr, planCharData
}

const (
	planElem = iota
	planAttr
	planCharData
)

type typePlan struct {
	fields   []fieldPlan
	chardata *fieldPlan
}

var plans sync.Map // reflect.Type → *typePlan

func planFor(t reflect.Type) *typePlan {
	if p, ok := plans.Load(t); ok {
		return p.(*typePlan)
	}
	p := &typePlan{}
	addFields(p, t, nil)
	for i := range p.fields {
		if p.fields[i].kind == planCharData {
			p.chardata = &p.fields[i]
			break
		}
	}
	plans.Store(t, p)
	return p
}

func addFields(p *typePlan, t reflect.Type, index []int) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		idx := append(append([]int(nil), index...), i)
		tag := f.Tag.Get("xml")
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			addFields(p, f.Type, idx)
			continue
		}
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fp := fieldPlan{index: idx, kind: planElem}
		switch opts {
		case "attr":
			fp.kind = planAttr
		case "chardata":
			fp.kind = planCharData
		}
		if name == "" {
			name = f.Name
		}
		parts := strings.Split(name, ">")
		fp.name = parts[len(parts)-1]
		fp.parents = parts[:len(parts)-1]
		p.fields = append(p.fields, fp)
	}
}

// fill mirrors encoding/xml's unmarshal of element n into v.
func fill(st *fastState, v reflect.Value, n *fnode) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Slice:
		l := v.Len()
		v.Grow(1)
		v.SetLen(l + 1)
		fill(st, v.Index(l), n)
	case reflect.String:
		v.SetString(st.str(n.text))
	case reflect.Struct:
		p := planFor(v.Type())
		for _, a := range n.attrs {
			for i := range p.fields {
				f := &p.fields[i]
				if f.kind == planAttr && f.name == a.name {
					v.FieldByIndex(f.index).SetString(a.value)
				}
			}
		}
		for k := n.first; k != nil; k = k.next {
			fillPath(st, p, v, nil, k)
		}
		if p.chardata != nil {
			v.FieldByIndex(p.chardata.index).SetString(st.str(n.text))
		}
	}
}

func fillPath(st *fastState, p *typePlan, sv reflect.Value, parents []string, n *fnode) bool {
	recurse := false
Loop:
	for i := range p.fields {
		f := &p.fields[i]
		if f.kind != planElem || len(f.parents) < len(parents) {
			continue
		}
		for j := range parents {
			if parents[j] != f.parents[j] {
				continue Loop
			}
		}
		if len(f.parents) == len(parents) && f.name == n.name {
			fill(st, sv.FieldByIndex(f.index), n)
			return true
		}
		if len(f.parents) > len(parents) && f.parents[len(parents)] == n.name {
			recurse = true
			parents = f.parents[:len(parents)+1]
			break
		}
	}
	if !recurse {
		return false
	}
	for k := n.first; k != nil; k = k.next {
		fillPath(st, p, sv, parents, k)
	}
	return true
}
