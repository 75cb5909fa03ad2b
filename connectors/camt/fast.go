package camt

import (
	"bytes"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/lettrage/lettrage/internal/textchunk"
)

// The fast entry path. The streaming structure (document, message,
// statements and everything outside <Ntry>) always goes through
// encoding/xml. For an entry, instead of DecodeElement, the input scans the
// entry's bytes to its end tag (same byte budget and depth limit), and
// scan builds the entry's element tree with a small scanner that accepts
// only a plain subset of XML: ASCII names with at most one prefix, quoted
// attributes, the five predefined entities, valid UTF-8 text. Anything else
// (comments, CDATA, processing instructions, character references, odd
// names, mismatched tags…) makes it give up, and the same bytes are decoded
// by encoding/xml instead, so results are those of the reference reader.
// The filler mirrors encoding/xml's unmarshalling rules for the struct
// shapes used here (string, []string, struct, *struct, []struct, embedded
// structs, "a>b" paths, ",attr", ",chardata"). TestFastPathEquivalence and
// FuzzFastPath keep both paths equal. With Options.EntryHeaders the tree is
// read by the one-layer decode (onelayer.go) instead of the filler when it
// can be.

// fnode is one element of an entry. It holds no pointers (indexes and
// offsets only), so that the node slab, reused from entry to entry, costs
// the garbage collector nothing: no scanning, no write barriers.
type fnode struct {
	name               int  // index in fastState.names (local name)
	attrStart, attrEnd int  // the element's attributes in fscanner.attrs
	text               span // character data directly inside the element
	// Children, as indexes in fscanner.nodes; 0 (the root) means none.
	first, last, next int
}

// span is a run of decoded text: s.b[start:end] (an alias of the input),
// or s.arena[start:end] when inArena.
type span struct {
	start, end int
	inArena    bool
}

type fattr struct{ name, value string }

type fscanner struct {
	b     []byte
	i     int
	nodes []fnode // slab; nodes[0] is the root
	attrs []fattr // slab of the nodes' attributes
	st    *fastState
	// arena holds the text that could not alias the input (entities,
	// line ends, text split by child elements); reused from entry to
	// entry, as the filler copies every value into a string.
	arena []byte
}

// bytes returns the text of sp.
func (s *fscanner) bytes(sp span) []byte {
	if sp.inArena {
		return s.arena[sp.start:sp.end]
	}
	return s.b[sp.start:sp.end]
}

// addText appends p to dst. The result lives at the tail of the arena so
// that the next call for the same node extends it in place; text that
// aliases the input, or that a child's text has since followed in the
// arena, is copied to the tail first.
func (s *fscanner) addText(dst span, p ...byte) span {
	if !dst.inArena || dst.end != len(s.arena) {
		start := len(s.arena)
		s.arena = append(s.arena, s.bytes(dst)...)
		dst = span{start: start, inArena: true}
	}
	s.arena = append(s.arena, p...)
	dst.end = len(s.arena)
	return dst
}

// Byte classes, looked up in one table in the hot loops.
const (
	clNameStart = 1 << iota // A-Z a-z _
	clNameChar              // the above, 0-9 - .
	clSpecial               // ends a plain text run: < & \r ] controls but \t \n, non-ASCII
)

var classes = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_':
			t[c] = clNameStart | clNameChar
		case c >= '0' && c <= '9' || c == '-' || c == '.':
			t[c] = clNameChar
		case c == '<' || c == '&' || c == '\r' || c == ']' || c >= 0x80 || c < 0x20 && c != '\t' && c != '\n':
			t[c] = clSpecial
		}
	}
	return t
}()

func isNameStart(c byte) bool { return classes[c]&clNameStart != 0 }

func isNameChar(c byte) bool { return classes[c]&clNameChar != 0 }

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
func (s *fscanner) text(dst span, stop byte, attr bool) (span, bool) {
	// A plain run (printable ASCII without '&', '\r', ']') is taken as
	// is; when it is all the element has, dst aliases the input (capacity
	// clipped so that a later append copies).
	j := s.i
	for j < len(s.b) {
		c := s.b[j]
		if c == stop || classes[c]&clSpecial != 0 {
			break
		}
		j++
	}
	if j > s.i {
		if dst.end == dst.start {
			dst = span{start: s.i, end: j}
		} else {
			dst = s.addText(dst, s.b[s.i:j]...)
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
				dst = s.addText(dst, '<')
			case "gt":
				dst = s.addText(dst, '>')
			case "amp":
				dst = s.addText(dst, '&')
			case "apos":
				dst = s.addText(dst, '\'')
			case "quot":
				dst = s.addText(dst, '"')
			default:
				return dst, false
			}
			s.i += end + 1
		case c == '\r':
			if attr {
				return dst, false
			}
			dst = s.addText(dst, '\n')
			s.i++
			if s.i < len(s.b) && s.b[s.i] == '\n' {
				s.i++
			}
		case c == ']':
			if bytes.HasPrefix(s.b[s.i:], []byte("]]>")) {
				return dst, false
			}
			dst = s.addText(dst, c)
			s.i++
		case c < 0x20:
			if c != '\t' && c != '\n' {
				return dst, false
			}
			dst = s.addText(dst, c)
			s.i++
		case c < 0x80:
			dst = s.addText(dst, c)
			s.i++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError || r == 0xFFFE || r == 0xFFFF {
				return dst, false
			}
			dst = s.addText(dst, s.b[s.i:s.i+size]...)
			s.i += size
		}
	}
	return dst, false
}

// newNode appends a node named id as the last child of node parent and
// returns its index.
func (s *fscanner) newNode(parent, id int) int {
	s.nodes = append(s.nodes, fnode{name: id})
	k := len(s.nodes) - 1
	if p := &s.nodes[parent]; p.last == 0 {
		p.first = k
		p.last = k
	} else {
		s.nodes[p.last].next = k
		p.last = k
	}
	return k
}

// content parses the content of node n, an element whose raw name is
// open, through its end tag.
func (s *fscanner) content(n int, open []byte, depth int) bool {
	if depth > 200 {
		return false
	}
	for {
		t, ok := s.text(s.nodes[n].text, '<', false)
		s.nodes[n].text = t
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
		id, ok := s.st.nameID(local)
		if !ok {
			return false
		}
		k := s.newNode(n, id)
		// Attributes, appended to the slab: an element's attributes are
		// all read before its children, so they stay contiguous.
		astart := len(s.attrs)
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
				s.nodes[k].attrStart, s.nodes[k].attrEnd = astart, len(s.attrs)
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
				s.nodes[k].attrStart, s.nodes[k].attrEnd = astart, len(s.attrs)
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
			v, ok := s.text(span{}, q, true)
			if !ok {
				return false
			}
			s.i++ // closing quote
			aid, ok := s.st.nameID(alocal)
			if !ok {
				return false
			}
			name := s.st.names[aid]
			for _, a := range s.attrs[astart:] {
				if a.name == name {
					return false
				}
			}
			s.attrs = append(s.attrs, fattr{name, s.st.str(s.bytes(v))})
		}
	}
}

// fastState is what the fast path reuses from one entry to the next.
type fastState struct {
	strs  map[string]string // interned short values
	cache [512]string       // direct-mapped cache in front of strs
	// Element and attribute names, numbered for the pointer-free nodes.
	names     []string
	nameIDs   map[string]int
	nameCache [512]int32 // direct-mapped cache in front of nameIDs: id+1, 0 for none
	nodes     []fnode
	attrs     []fattr
	arena     []byte
	// texts is the chunk the strings str keeps are copied into (keep).
	texts textchunk.Chunks
	slabs []slab // per plan number, see alloc
	// fields caches, per plan number and name number, which field of the
	// plan a child element of that name fills (see fieldFor).
	fields [][]int32
}

// fieldFor returns what fillPath does with a child element named ni (a
// name number) of a struct of plan p, at the top of the struct (no
// parents): the index of the field it fills, and whether that field is
// under a parents path starting with the name (recurse); -1 when no field
// takes it. Computed once per plan and name: the answer depends on nothing
// else.
func (st *fastState) fieldFor(p *typePlan, ni int) (int, bool) {
	if p.id >= len(st.fields) {
		st.fields = append(st.fields, make([][]int32, p.id+1-len(st.fields))...)
	}
	row := st.fields[p.id]
	if ni >= len(row) {
		row = append(row, make([]int32, len(st.names)-len(row))...)
		st.fields[p.id] = row
	}
	// 0: not computed, 1: none, 2+2i: field i, 3+2i: under field i's parents
	if c := row[ni]; c != 0 {
		if c == 1 {
			return -1, false
		}
		return int(c-2) / 2, c&1 == 1
	}
	name := st.names[ni]
	fi, recurse := -1, false
	for i := range p.fields {
		f := &p.fields[i]
		if f.kind != planElem {
			continue
		}
		if len(f.parents) == 0 && f.name == name {
			fi = i
			break
		}
		if len(f.parents) > 0 && f.parents[0] == name {
			fi, recurse = i, true
			break
		}
	}
	switch {
	case fi < 0:
		row[ni] = 1
	case recurse:
		row[ni] = int32(3 + 2*fi)
	default:
		row[ni] = int32(2 + 2*fi)
	}
	return fi, recurse
}

// slab hands out new values of one struct type from chunks, one
// allocation per chunk instead of one per value. Chunks are never reused:
// a value lives as long as anything points into its chunk.
type slab struct {
	chunk reflect.Value // a slice of the plan's type
	next  int
}

// alloc returns a pointer to a new zero value of the struct type of plan
// p; the slabs are indexed by plan number.
func (st *fastState) alloc(p *typePlan) reflect.Value {
	if p.id >= len(st.slabs) {
		st.slabs = append(st.slabs, make([]slab, p.id+1-len(st.slabs))...)
	}
	sl := &st.slabs[p.id]
	if !sl.chunk.IsValid() || sl.next == sl.chunk.Len() {
		sl.chunk = reflect.MakeSlice(reflect.SliceOf(p.t), 32, 32)
		sl.next = 0
	}
	sl.next++
	return sl.chunk.Index(sl.next - 1).Addr()
}

// cacheSlot is a cheap hash of b (not empty) for the direct-mapped caches:
// its length and three of its bytes, enough to tell apart the names and
// short codes of a statement without hashing b in full.
func cacheSlot(b []byte) uint {
	return (uint(len(b))*131 + uint(b[0])*31 + uint(b[len(b)-1])*7 + uint(b[len(b)/2])) & 511
}

// maxNames bounds the name table; an entry with more distinct names is left
// to encoding/xml.
const maxNames = 4096

// nameID returns the number of the name b (not empty), adding it to the
// table if needed; false if the table is full.
func (st *fastState) nameID(b []byte) (int, bool) {
	h := cacheSlot(b)
	if c := int(st.nameCache[h]) - 1; c >= 0 && st.names[c] == string(b) { // compared without allocating
		return c, true
	}
	id, ok := st.nameIDs[string(b)]
	if !ok {
		if len(st.names) >= maxNames {
			return 0, false
		}
		id = len(st.names)
		name := string(b)
		st.names = append(st.names, name)
		st.nameIDs[name] = id
	}
	st.nameCache[h] = int32(id + 1)
	return id, true
}

// intern returns b (not empty) as a shared string (short codes and
// values). A direct-mapped cache answers most lookups; misses go to the
// map (bounded at 4096 strings, then b is just copied).
func (st *fastState) intern(b []byte) string {
	h := cacheSlot(b)
	if c := st.cache[h]; c == string(b) { // compared without allocating
		return c
	}
	s, ok := st.strs[string(b)]
	if !ok {
		s = string(b)
		if len(st.strs) < 4096 {
			st.strs[s] = s
		}
	}
	st.cache[h] = s
	return s
}

// str converts text to a string, sharing the strings of short codes and
// of white space (CRDT, BOOK, EUR, indentation) instead of allocating them.
func (st *fastState) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > 8 && (len(b) > 64 || !blank(b)) {
		return st.keep(b)
	}
	return st.intern(b)
}

// once is str for a text that is parsed and dropped (a date, an amount):
// shared when short, else allocated on its own, never kept in the chunk
// of the texts that stay (keep), which it would fill for nothing.
func (st *fastState) once(b []byte) string {
	if len(b) <= 8 {
		return st.str(b)
	}
	return string(b)
}

// date is once for the text of a Dt: a statement's entries share a few
// hundred dates, so they are shared (intern) rather than allocated each.
func (st *fastState) date(b []byte) string {
	if len(b) <= len("2006-01-02") {
		return st.intern(b)
	}
	return string(b)
}

// keep returns a string of b's bytes, copied into a chunk shared with the
// texts kept before it rather than allocated on its own (textchunk): an
// entry's names, references and remittance lines (a dozen strings or more,
// most of them kept with its transactions until the pass ends) cost the
// allocator and the garbage collector one pointer-free object per 32 KiB
// instead of one object each.
func (st *fastState) keep(b []byte) string { return st.texts.KeepBytes(b) }

// blank reports whether b is only spaces, tabs and newlines.
func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' {
			return false
		}
	}
	return true
}

// scan builds the element tree of body, the bytes after the start tag of
// an element named open (raw, with prefix) through its end tag; false: not
// handled (then the entry goes to encoding/xml). The scanner must be given
// back with release; the tree is read by fillRoot (reflection, into xNtry)
// or by the one-layer decode (onelayer.go).
func (st *fastState) scan(body, open []byte) (fscanner, bool) {
	if st.strs == nil {
		st.strs = map[string]string{}
		st.nameIDs = map[string]int{}
		st.seedNames()
	}
	s := fscanner{b: body, st: st, nodes: append(st.nodes[:0], fnode{}), attrs: st.attrs[:0], arena: st.arena[:0]}
	ok := s.content(0, open, 0) && s.i == len(body)
	return s, ok
}

// fillRoot fills x (a pointer to a struct) from the root of the tree, by
// reflection, as encoding/xml would.
func (s *fscanner) fillRoot(x any) {
	v := reflect.ValueOf(x).Elem()
	s.fill(v, 0, planFor(v.Type()))
}

// release keeps the scanner's slabs for the next entry (nodes hold no
// pointers; the attributes' strings are cleared so as not to keep them
// alive).
func (st *fastState) release(s *fscanner) {
	st.nodes = s.nodes[:0]
	clear(s.attrs)
	st.attrs = s.attrs[:0]
	if cap(s.arena) <= 1<<20 { // do not keep a huge one
		st.arena = s.arena[:0]
	}
}

// Reflection plans, mirroring encoding/xml's typeinfo for our structs.

type fieldPlan struct {
	index   []int
	parents []string
	name    string
	kind    int       // planElem, planAttr, planCharData
	sub     *typePlan // the plan of the struct under the field (through pointers and slices), or nil
}

const (
	planElem = iota
	planAttr
	planCharData
)

type typePlan struct {
	t        reflect.Type
	id       int // numbers the plans, for fastState.slabs
	fields   []fieldPlan
	chardata *fieldPlan
}

var (
	plans   sync.Map // reflect.Type → *typePlan
	planIDs atomic.Int64
)

func planFor(t reflect.Type) *typePlan {
	if p, ok := plans.Load(t); ok {
		return p.(*typePlan)
	}
	// The plans of the structs under the fields are made first, so the
	// types must not be recursive (ours are trees).
	p := &typePlan{t: t}
	addFields(p, t, nil)
	for i := range p.fields {
		if p.fields[i].kind == planCharData {
			p.chardata = &p.fields[i]
			break
		}
	}
	p.id = int(planIDs.Add(1) - 1)
	got, _ := plans.LoadOrStore(t, p)
	return got.(*typePlan)
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
		base := f.Type
		for base.Kind() == reflect.Pointer || base.Kind() == reflect.Slice {
			base = base.Elem()
		}
		if fp.kind == planElem && base.Kind() == reflect.Struct {
			fp.sub = planFor(base)
		}
		p.fields = append(p.fields, fp)
	}
}

// fill mirrors encoding/xml's unmarshal of node ni into v; sub is the
// plan of the struct under v (through pointers and slices), if any.
func (s *fscanner) fill(v reflect.Value, ni int, sub *typePlan) {
	st := s.st
	n := &s.nodes[ni]
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			if sub != nil && v.Type().Elem().Kind() == reflect.Struct {
				v.Set(st.alloc(sub))
			} else {
				v.Set(reflect.New(v.Type().Elem()))
			}
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Slice:
		l := v.Len()
		if l == 0 && v.Cap() == 0 {
			// Sized once for the elements of the same name that follow
			// (Ustrd lines, Strd blocks): growing one by one allocates
			// and copies them again at each doubling.
			v.Grow(s.sameNamed(ni))
		} else {
			v.Grow(1)
		}
		v.SetLen(l + 1)
		s.fill(v.Index(l), ni, sub)
	case reflect.String:
		v.SetString(st.str(s.bytes(n.text)))
	case reflect.Struct:
		p := sub
		if p == nil { // not reached with our types
			p = planFor(v.Type())
		}
		for _, a := range s.attrs[n.attrStart:n.attrEnd] {
			for i := range p.fields {
				f := &p.fields[i]
				if f.kind == planAttr && f.name == a.name {
					v.FieldByIndex(f.index).SetString(a.value)
				}
			}
		}
		for k := n.first; k != 0; k = s.nodes[k].next {
			s.fillPath(p, v, nil, k)
		}
		if p.chardata != nil {
			v.FieldByIndex(p.chardata.index).SetString(st.str(s.bytes(n.text)))
		}
	}
}

// sameNamed counts node ni and its following siblings of the same name:
// how many elements a slice filled from ni will get from this parent.
func (s *fscanner) sameNamed(ni int) int {
	name, n := s.nodes[ni].name, 0
	for k := ni; k != 0; k = s.nodes[k].next {
		if s.nodes[k].name == name {
			n++
		}
	}
	return n
}

func (s *fscanner) fillPath(p *typePlan, sv reflect.Value, parents []string, ni int) bool {
	n := &s.nodes[ni]
	if len(parents) == 0 {
		// the common case, answered from the cache
		fi, recurse := s.st.fieldFor(p, n.name)
		if fi < 0 {
			return false
		}
		f := &p.fields[fi]
		if !recurse {
			s.fill(sv.FieldByIndex(f.index), ni, f.sub)
			return true
		}
		parents = f.parents[:1]
		for k := n.first; k != 0; k = s.nodes[k].next {
			s.fillPath(p, sv, parents, k)
		}
		return true
	}
	name := s.st.names[n.name]
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
		if len(f.parents) == len(parents) && f.name == name {
			s.fill(sv.FieldByIndex(f.index), ni, f.sub)
			return true
		}
		if len(f.parents) > len(parents) && f.parents[len(parents)] == name {
			recurse = true
			parents = f.parents[:len(parents)+1]
			break
		}
	}
	if !recurse {
		return false
	}
	for k := n.first; k != 0; k = s.nodes[k].next {
		s.fillPath(p, sv, parents, k)
	}
	return true
}
