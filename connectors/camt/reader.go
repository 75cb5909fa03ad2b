package camt

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/lettrage/lettrage/domain"
)

// EntryFunc receives each entry, in document order, with its projected
// transactions. The statement is the one the entry belongs to; its checks
// are not computed yet. An error stops the parse. The txs slice is reused
// for the next entry: copy the transactions to keep them (append(dst,
// txs...)), not the slice.
type EntryFunc func(st *Statement, e *Entry, txs []domain.Transaction) error

var nsPattern = regexp.MustCompile(`camt\.05([234])\.001\.(\d+)`)

// Parse streams a camt.052/053/054 file entry by entry, through every
// document in it. name is the file name used in errors. fn is called once
// per entry, in file order; an error from fn stops the parse and is
// returned wrapped (with ErrCallback). The returned File carries the
// statements with balances, summaries and Checks, but not the entries.
// Every failure is a *ParseError; a truncated document, and content after
// the last document, are always errors (refuse the file whole then: fn
// may have seen some of its entries already). As with EntryFunc, txs is
// only fn's during the call: its array is reused for the next entry.
func Parse(r io.Reader, name string, opts Options, fn func(st *Statement, e *Entry, txs []domain.Transaction) error) (*File, error) {
	p, err := newParser(r, name, opts)
	if err != nil {
		return nil, err
	}
	p.fn = fn
	if err := p.run(); err != nil {
		return nil, err
	}
	return p.file, nil
}

// ReadAll reads a whole file (every document in it), keeping every entry
// (with its projected transactions in Entry.Projected) in its statement.
// Memory grows with the file: use it for tests, golden files and
// inspection, Parse otherwise.
func ReadAll(r io.Reader, name string, opts Options) (*Document, error) {
	p, err := newParser(r, name, opts)
	if err != nil {
		return nil, err
	}
	p.keep = true
	if err := p.run(); err != nil {
		return nil, err
	}
	return &Document{File: *p.file}, nil
}

type parser struct {
	name   string
	lim    Limits
	in     *input // the reader encoding/xml reads from
	raw    *input // the caller's bytes
	bom    int64
	dec    *xml.Decoder
	fn     EntryFunc
	keep   bool
	file   *File
	extras *extras
	rootNS []xml.Attr // xmlns declarations of Document, for extras

	// fast enables the fast entry path (see fast.go); skew and lineSkew
	// are the bytes and lines it consumed behind the decoder's back.
	fast     bool
	headers  bool // Options.EntryHeaders: decode in one layer when possible
	one      oneLayer
	skew     int64
	lineSkew int
	scratch  []byte
	// entRaw is the raw current entry when extras need it.
	entRaw    []byte
	fastState fastState

	// enc is the encoding the file is read in (canonical name): every
	// document of the file must declare it.
	enc string
	// done counts the documents read; doc is the one being read.
	done int
	doc  docState

	path []string
	st   *Statement // current statement
	ent  int        // current entry index
	// entOff and entLine locate the current entry's start tag.
	entOff  int64
	entLine int
	proj    projector
	// x is the raw entry being decoded, reused from one entry to the next
	// (converted into an Entry that shares none of its memory)
	x xNtry
}

func newParser(r io.Reader, name string, opts Options) (*parser, error) {
	p := &parser{name: name, lim: opts.Limits.withDefaults(), file: &File{Name: name}, fast: !opts.reference && !opts.Reference,
		headers: opts.EntryHeaders}
	if len(opts.Extra) > 0 {
		ex, err := compileExtras(opts.Extra)
		if err != nil {
			return nil, p.errAt(fmt.Errorf("compiling extra XPath: %w", err))
		}
		p.extras = ex
	}
	p.proj.init()
	return p, p.open(r)
}

// open sets up the input and the decoder: BOM, UTF-16, charsets, and a
// quick rejection of input that does not start like XML.
func (p *parser) open(r io.Reader) error {
	p.raw = newInput(r, p.lim.MaxDepth)
	p.in = p.raw
	p.enc = "UTF-8"
	head := p.raw.peek(4)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		p.raw.discard(3)
		p.bom = 3
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}), bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		dec := unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()
		p.in = newInput(transform.NewReader(p.raw, dec), p.lim.MaxDepth)
		p.enc = "UTF-16"
	}
	// The first byte after white space must open markup.
	first := byte(0)
	for i := 1; i <= 4096; i++ {
		b := p.in.peek(i)
		if len(b) < i {
			break
		}
		c := b[i-1]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			continue
		}
		first = c
		break
	}
	if first != '<' {
		var re *readError
		if errors.As(p.in.rerr, &re) {
			return p.errAt(re)
		}
		return p.errAt(fmt.Errorf("%w: input does not start with XML markup", ErrNotCAMT))
	}
	p.in.capture = p.extras != nil
	p.dec = xml.NewDecoder(p.in)
	p.dec.Strict = true
	p.dec.CharsetReader = p.charsetReader
	return nil
}

func (p *parser) charsetReader(label string, r io.Reader) (io.Reader, error) {
	if p.done > 0 {
		// The declaration of a further document: r is already decoded.
		if canonicalEncoding(label) != p.enc {
			return nil, p.encodingMismatch(label)
		}
		return r, nil
	}
	l := strings.ToLower(strings.TrimSpace(label))
	if strings.HasPrefix(l, "utf-16") || l == "utf16" {
		if p.in != p.raw {
			return r, nil // already decoded from UTF-16 by BOM
		}
		return nil, fmt.Errorf("%w: UTF-16 declared without a byte order mark", ErrMalformed)
	}
	enc, err := ianaindex.IANA.Encoding(label)
	if err != nil || enc == nil {
		return nil, fmt.Errorf("%w: unsupported encoding %q", ErrMalformed, label)
	}
	nin := newInput(transform.NewReader(r, enc.NewDecoder()), p.lim.MaxDepth)
	nin.capture = p.extras != nil
	p.in = nin
	p.enc = canonicalEncoding(label)
	return nin, nil
}

// errAt wraps err in a located *ParseError (unless it already is one).
func (p *parser) errAt(err error) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		return err
	}
	pe = &ParseError{File: p.name, Err: err, Path: strings.Join(p.path, "/"), EntryIndex: p.ent}
	var at *atError
	if errors.As(err, &at) && at.line > 0 {
		pe.Offset, pe.Line = at.offset, at.line
	} else if p.dec != nil {
		pe.Offset, pe.Line = p.pos()
	}
	if p.st != nil {
		pe.StatementID = p.st.ID
	}
	var ve *valueError
	if errors.As(err, &ve) {
		if ve.path != "" {
			pe.Path += "/" + ve.path
		}
		if p.ent > 0 {
			// A bad value is found after the whole entry is decoded: point
			// at the entry's start tag.
			pe.Offset, pe.Line = p.entOff, p.entLine
		}
	}
	return pe
}

// classify turns decoder errors into sentinel causes.
func classify(err error) error {
	if err == nil {
		return nil
	}
	for _, s := range []error{ErrLimit, ErrMalformed, ErrNotCAMT, ErrTruncated, ErrUnsupportedMessage} {
		if errors.Is(err, s) {
			return err
		}
	}
	var re *readError
	if errors.As(err, &re) {
		return err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: input ends inside the document", ErrTruncated)
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		if strings.Contains(se.Msg, "unexpected EOF") {
			return fmt.Errorf("%w: %s", ErrTruncated, se.Msg)
		}
		return fmt.Errorf("%w: %s", ErrMalformed, se.Msg)
	}
	if err.Error() == "exceeded max depth" {
		return fmt.Errorf("%w: %v", ErrLimit, err)
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}

// token reads the next token with a fresh byte budget.
func (p *parser) token() (xml.Token, error) {
	t, err := p.rawToken()
	if err != nil {
		return nil, classify(err)
	}
	return t, nil
}

// rawToken is token with the decoder's error as it is: io.EOF at the end
// of the input, between documents.
func (p *parser) rawToken() (xml.Token, error) {
	p.in.arm(p.lim.MaxEntryBytes)
	if p.in.capture {
		// Keep a '<' the decoder consumed at the end of the previous
		// token (it reads one byte past character data).
		keep := len(p.in.capBuf) > 0 && p.in.capBuf[len(p.in.capBuf)-1] == '<'
		p.in.capBuf = p.in.capBuf[:0]
		if keep {
			p.in.capBuf = append(p.in.capBuf, '<')
		}
	}
	return p.dec.Token()
}

func (p *parser) decode(v any, se *xml.StartElement) error {
	p.in.arm(p.lim.MaxEntryBytes)
	if err := p.dec.DecodeElement(v, se); err != nil {
		return classify(err)
	}
	return nil
}

func (p *parser) skip() error {
	p.in.arm(p.lim.MaxEntryBytes)
	if err := p.dec.Skip(); err != nil {
		return classify(err)
	}
	return nil
}

func (p *parser) text(se *xml.StartElement) (string, error) {
	var s string
	if err := p.decode(&s, se); err != nil {
		return "", err
	}
	return strings.TrimSpace(s), nil
}

// pos is the byte offset and line of the decoder in the input.
func (p *parser) pos() (int64, int) {
	line, _ := p.dec.InputPos()
	return p.dec.InputOffset() + p.bom + p.skew, line + p.lineSkew
}

// decodeEntry decodes one <Ntry> whose start tag was just read: with
// DecodeElement, or through the fast path when the input is UTF-8 read
// directly (no charset decoder) and the start tag is not self-closing.
//
// With Options.EntryHeaders, an entry the fast scanner takes is decoded in
// one layer when it can be (onelayer.go): oneLayer is then true, x is left
// untouched and the entry is in p.one.
func (p *parser) decodeEntry(x *xNtry, t *xml.StartElement) (oneLayer bool, err error) {
	if !p.fast || p.in != p.raw || p.in.selfClose || len(p.in.name) == 0 {
		err := p.decode(x, t)
		p.entRaw = p.in.capBuf
		return false, err
	}
	in := p.in
	in.arm(p.lim.MaxEntryBytes)
	open := append([]byte(nil), in.name...)
	body, err := in.scanBody(p.scratch[:0])
	p.scratch = body
	p.skew += int64(len(body))
	p.lineSkew += bytes.Count(body, []byte{'\n'})
	if err != nil {
		return false, classify(err)
	}
	if in.capture {
		in.capBuf = append(in.capBuf, body...)
	}
	s, ok := p.fastState.scan(body, open)
	if ok {
		if p.headers && !p.keep && p.one.decode(&s, p.ent, p.lim.MaxTxDtls) {
			oneLayer = true
		} else {
			s.fillRoot(x)
		}
	}
	p.fastState.release(&s)
	if !ok {
		// Leave it to encoding/xml, on the same bytes.
		if err := p.referenceEntry(x, open, body); err != nil {
			// Point at the failure inside the entry, as DecodeElement would.
			var at *atError
			if errors.As(err, &at) {
				bodyStart := p.bom + p.skew + p.dec.InputOffset() - int64(len(body))
				line, _ := p.dec.InputPos()
				at.offset = bodyStart + at.rel
				at.line = line + p.lineSkew - bytes.Count(body, []byte{'\n'}) + bytes.Count(body[:min(int(at.rel), len(body))], []byte{'\n'})
			}
			return false, err
		}
	}
	if in.capture {
		p.entRaw = append(p.entRaw[:0], in.capBuf...)
	}
	// Let the decoder see the end of the element it opened.
	end := make([]byte, 0, len(open)+3)
	end = append(append(append(end, "</"...), open...), '>')
	in.inject = end
	p.skew -= int64(len(end))
	tok, err := p.token()
	if err != nil {
		return false, err
	}
	if _, ok := tok.(xml.EndElement); !ok {
		return false, fmt.Errorf("%w: entry end not found", ErrMalformed)
	}
	return oneLayer, nil
}

// referenceEntry decodes the bytes of an entry the fast scanner did not
// take with encoding/xml, as DecodeElement would have.
func (p *parser) referenceEntry(x *xNtry, open, body []byte) error {
	doc := make([]byte, 0, len(open)+2+len(body))
	doc = append(append(append(doc, '<'), open...), '>')
	doc = append(doc, body...)
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	tok, err := d.Token()
	if err != nil {
		return classify(err)
	}
	se, ok := tok.(xml.StartElement)
	if !ok {
		return fmt.Errorf("%w: entry start not found", ErrMalformed)
	}
	if err := d.DecodeElement(x, &se); err != nil {
		return &atError{rel: d.InputOffset() - int64(len(open)+2), err: classify(err)}
	}
	return nil
}

// atError carries the position of a failure found by the fallback
// decoder; rel is relative to the start of the entry's body.
type atError struct {
	rel    int64
	offset int64
	line   int
	err    error
}

func (e *atError) Error() string { return e.err.Error() }
func (e *atError) Unwrap() error { return e.err }

func (p *parser) push(name string) { p.path = append(p.path, name) }
func (p *parser) pop()             { p.path = p.path[:len(p.path)-1] }

func (p *parser) run() error {
	if err := p.top(); err != nil {
		return p.errAt(err)
	}
	return nil
}

// docState is what the parser knows of the document being read.
type docState struct {
	index        int    // 1-based position in the file
	typ, version string // "camt.053", "08"
	msgID        string
	stmts        int // statements read so far
}

// notCAMT is the cause for something that is not a camt document: the
// file is not camt (ErrNotCAMT) while no document was read yet, and it
// is content after the last document (ErrTrailingContent) once one was.
func (p *parser) notCAMT() error {
	if p.done > 0 {
		return ErrTrailingContent
	}
	return ErrNotCAMT
}

// top reads the file to its end: every document in it, bare or inside
// wrappers such as <message> with an AppHdr, in order. Once a document was
// read, what follows may only be white space, comments, processing
// instructions and further documents (each with its own XML declaration,
// DOCTYPE or byte order mark); anything else is ErrTrailingContent,
// located where it starts, and refuses the whole file.
func (p *parser) top() error {
	// pending is a prolog item (XML declaration, DOCTYPE, byte order mark)
	// seen after a document: a further document must follow it.
	var pending *atError
	for {
		off, line := p.pos()
		t, err := p.rawToken()
		if err == io.EOF && p.done > 0 {
			if pending != nil {
				return pending
			}
			return nil
		}
		if err != nil {
			err = classify(err)
			var re *readError
			if p.done == 0 && !errors.Is(err, ErrLimit) && !errors.As(err, &re) {
				return fmt.Errorf("%w: %w", ErrNotCAMT, err)
			}
			return err
		}
		switch t := t.(type) {
		case xml.CharData:
			if p.done == 0 {
				continue
			}
			s := string(t)
			if i := strings.IndexFunc(s, func(r rune) bool { return !isXMLSpace(r) && r != '\uFEFF' }); i >= 0 {
				return p.trailingText(s, i, off, line)
			}
			if j := strings.IndexRune(s, '\uFEFF'); j >= 0 && pending == nil {
				pending = p.dangling("a byte order mark", off+int64(j), line+strings.Count(s[:j], "\n"))
			}
		case xml.ProcInst:
			if t.Target == "xml" && p.done > 0 {
				if err := p.checkEncoding(t.Inst); err != nil {
					return &atError{offset: off, line: line, err: err}
				}
				if pending == nil {
					pending = p.dangling("an XML declaration", off, line)
				}
			}
		case xml.Directive:
			if bytes.Contains(t, []byte("ENTITY")) {
				return fmt.Errorf("%w: DTD entity declarations are not allowed", ErrMalformed)
			}
			if p.done > 0 && pending == nil {
				pending = p.dangling("a document type declaration", off, line)
			}
		case xml.StartElement:
			pending = nil
			if strings.EqualFold(t.Name.Local, "Document") {
				if err := p.readDocument(t); err != nil {
					return err
				}
				continue
			}
			p.push(t.Name.Local)
			if _, err := p.findDocuments(1, false, off, line); err != nil {
				return err
			}
			p.pop()
		}
	}
}

func isXMLSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }

// trailingText is the error for the text s found after a document, whose
// first byte that is not white space is s[i]; the text starts at off, on
// line.
func (p *parser) trailingText(s string, i int, off int64, line int) error {
	text := s[i:]
	if j := strings.IndexAny(text, "\r\n"); j >= 0 {
		text = text[:j]
	}
	if len(text) > 40 {
		j := 40
		for j > 0 && !utf8.RuneStart(text[j]) {
			j--
		}
		text = text[:j] + "…"
	}
	return &atError{offset: off + int64(i), line: line + strings.Count(s[:i], "\n"),
		err: fmt.Errorf("%w: text %q after document %d", ErrTrailingContent, text, p.done)}
}

// dangling is the error for a prolog item after a document that no
// document follows.
func (p *parser) dangling(what string, off int64, line int) *atError {
	return &atError{offset: off, line: line,
		err: fmt.Errorf("%w: %s after document %d is not followed by a document", ErrTrailingContent, what, p.done)}
}

// checkEncoding checks the XML declaration (its content inst) of a further
// document: the documents of a file must share one encoding, since the
// bytes after the first declaration are already decoded in its encoding.
// (A declared non-UTF-8 encoding was already checked by charsetReader.)
func (p *parser) checkEncoding(inst []byte) error {
	label := declaredEncoding(inst)
	if label == "" {
		// No encoding declared means UTF-8, or UTF-16 after a byte order
		// mark.
		if p.enc == "UTF-8" || p.enc == "UTF-16" {
			return nil
		}
		return p.encodingMismatch("UTF-8 (none declared)")
	}
	if canonicalEncoding(label) != p.enc {
		return p.encodingMismatch(label)
	}
	return nil
}

func (p *parser) encodingMismatch(label string) error {
	return fmt.Errorf("%w: document %d declares encoding %q but the file is read as %s: the documents of one file must share an encoding",
		ErrMalformed, p.done+1, label, p.enc)
}

// declaredEncoding is the encoding pseudo-attribute of an XML declaration.
func declaredEncoding(inst []byte) string {
	s := string(inst)
	i := strings.Index(s, "encoding")
	if i < 0 {
		return ""
	}
	s = strings.TrimLeft(s[i+len("encoding"):], " \t\r\n")
	if !strings.HasPrefix(s, "=") {
		return ""
	}
	s = strings.TrimLeft(s[1:], " \t\r\n")
	if s == "" || s[0] != '"' && s[0] != '\'' {
		return ""
	}
	if j := strings.IndexByte(s[1:], s[0]); j >= 0 {
		return s[1 : j+1]
	}
	return ""
}

// canonicalEncoding names the encoding of a label the same way for every
// alias ("latin1" and "ISO-8859-1" alike).
func canonicalEncoding(label string) string {
	l := strings.ToLower(strings.TrimSpace(label))
	switch {
	case l == "utf-8" || l == "utf8":
		return "UTF-8"
	case strings.HasPrefix(l, "utf-16") || l == "utf16":
		return "UTF-16"
	}
	if enc, err := ianaindex.IANA.Encoding(l); err == nil && enc != nil {
		if name, err := ianaindex.MIME.Name(enc); err == nil {
			return name // ISO-8859-1 rather than ISO_8859-1:1987
		}
		if name, err := ianaindex.IANA.Name(enc); err == nil {
			return name
		}
	}
	return strings.ToUpper(l)
}

// findDocuments reads the content of a wrapper element (level 1 to 3
// below the root's level 0) whose start tag was at off, on line, through
// its end tag: every Document in it is read, at any depth up to level 4;
// header elements (…Hdr, …Header) are skipped. A wrapper without a
// Document is an error, unless lenient (it follows a Document inside an
// enclosing wrapper: a signature, a trailer): then it is passed over.
func (p *parser) findDocuments(level int, lenient bool, off int64, line int) (bool, error) {
	found := false
	for {
		coff, cline := p.pos()
		t, err := p.token()
		if err != nil {
			return found, err
		}
		switch t := t.(type) {
		case xml.Directive:
			if bytes.Contains(t, []byte("ENTITY")) {
				return found, fmt.Errorf("%w: DTD entity declarations are not allowed", ErrMalformed)
			}
		case xml.StartElement:
			local := t.Name.Local
			switch {
			case strings.EqualFold(local, "Document"):
				if err := p.readDocument(t); err != nil {
					return found, err
				}
				found = true
			case strings.Contains(local, "Hdr") || strings.Contains(local, "Header"):
				if err := p.skip(); err != nil {
					return found, err
				}
			case level < 4:
				p.push(local)
				f, err := p.findDocuments(level+1, lenient || found, coff, cline)
				if err != nil {
					return found, err
				}
				p.pop()
				found = found || f
			case lenient || found:
				if err := p.skip(); err != nil {
					return found, err
				}
			default:
				p.push(local)
				return found, &atError{offset: coff, line: cline, err: fmt.Errorf("%w: element <%s> is not a camt Document", p.notCAMT(), local)}
			}
		case xml.EndElement:
			if found || lenient {
				return found, nil
			}
			return false, &atError{offset: off, line: line, err: fmt.Errorf("%w: no Document element in <%s>", p.notCAMT(), strings.Join(p.path, "/"))}
		}
	}
}

// readDocument reads a Document element whose start tag se was just read.
// The first document of a file is "Document" in error paths, the next ones
// "Document[2]", "Document[3]"…
//
// Each document's transactions get the references they would get in a
// file of their own (the projector starts afresh): the same statement
// twice in one file, or an intraday report followed by the day-end
// statement, gives the same keys twice, which the state store letters
// once, instead of "#2" keys that would letter the cash twice.
func (p *parser) readDocument(se xml.StartElement) error {
	p.doc = docState{index: p.done + 1}
	name := se.Name.Local
	if p.doc.index > 1 {
		name = fmt.Sprintf("%s[%d]", name, p.doc.index)
		p.proj.init()
	}
	p.push(name)
	if err := p.document(se); err != nil {
		return err
	}
	p.pop()
	p.done++
	return nil
}

var messageTypes = []struct{ prefix, typ string }{
	{"BkToCstmrAcctRpt", "camt.052"},
	{"BkToCstmrStmt", "camt.053"},
	{"BkToCstmrDbtCdtNtfctn", "camt.054"},
}

// The versions read: camt.05x.001.01 to camt.05x.001.14. A namespace of
// another version is ErrUnsupportedMessage.
const (
	minVersion = 1
	maxVersion = 14
)

// setType records the message type and version of the current document
// (and of the file, for its first document).
func (p *parser) setType(typ, version string) {
	p.doc.typ, p.doc.version = typ, version
	if p.doc.index == 1 {
		p.file.Type, p.file.Version = typ, version
	}
}

func (p *parser) document(se xml.StartElement) error {
	d := &p.doc
	ns := se.Name.Space
	if d.index == 1 {
		p.file.Namespace = ns
	}
	p.rootNS = p.rootNS[:0]
	for _, a := range se.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			p.rootNS = append(p.rootNS, a)
		}
	}
	if m := nsPattern.FindStringSubmatch(ns); m != nil {
		v, err := strconv.Atoi(m[2])
		if err != nil || len(m[2]) != 2 || v < minVersion || v > maxVersion {
			return fmt.Errorf("%w: version %s of camt.05%s (namespace %q); versions .001.%02d to .001.%02d are read",
				ErrUnsupportedMessage, m[2], m[1], ns, minVersion, maxVersion)
		}
		p.setType("camt.05"+m[1], m[2])
	} else if ns != "" {
		if strings.Contains(ns, "camt.") {
			return fmt.Errorf("%w: namespace %q", ErrUnsupportedMessage, ns)
		}
		return fmt.Errorf("%w: namespace %q", p.notCAMT(), ns)
	}
	for {
		t, err := p.token()
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.StartElement:
			typ := ""
			for _, m := range messageTypes {
				if strings.HasPrefix(t.Name.Local, m.prefix) {
					typ = m.typ
				}
			}
			if typ == "" {
				if d.typ == "" {
					return fmt.Errorf("%w: <%s> in a Document without a camt namespace", p.notCAMT(), t.Name.Local)
				}
				return fmt.Errorf("%w: unexpected <%s> in a %s document", ErrMalformed, t.Name.Local, d.typ)
			}
			if d.typ == "" {
				p.setType(typ, d.version)
			} else if typ != d.typ {
				return fmt.Errorf("%w: <%s> in a %s document", ErrMalformed, t.Name.Local, d.typ)
			}
			p.push(t.Name.Local)
			if err := p.message(); err != nil {
				return err
			}
			p.pop()
		case xml.EndElement:
			if d.typ == "" || d.stmts == 0 && d.msgID == "" {
				return fmt.Errorf("%w: empty Document", ErrMalformed)
			}
			return nil
		}
	}
}

func (p *parser) message() error {
	d := &p.doc
	seenHdr := false
	for {
		t, err := p.token()
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "GrpHdr":
				var h xGrpHdr
				p.push("GrpHdr")
				if err := p.decode(&h, &t); err != nil {
					return err
				}
				d.msgID = strings.TrimSpace(h.MsgID)
				tm, err := parseDateTime(h.CreDtTm)
				if err != nil {
					return badValue("CreDtTm", "%v", err)
				}
				if d.index == 1 {
					p.file.MsgID, p.file.Created = d.msgID, tm
				}
				p.pop()
				seenHdr = true
			case "Stmt", "Rpt", "Ntfctn":
				p.push(fmt.Sprintf("%s[%d]", t.Name.Local, d.stmts+1))
				if err := p.statement(); err != nil {
					return err
				}
				p.pop()
			default:
				if err := p.skip(); err != nil {
					return err
				}
			}
		case xml.EndElement:
			if !seenHdr {
				return fmt.Errorf("%w: message without GrpHdr", ErrMalformed)
			}
			if d.stmts == 0 {
				return ErrNoStatement
			}
			return nil
		}
	}
}

func (p *parser) statement() error {
	d := &p.doc
	st := &Statement{Index: len(p.file.Statements) + 1, Document: d.index, Message: d.typ, Version: d.version, MsgID: d.msgID}
	p.st, p.ent = st, 0
	defer func() { p.st, p.ent = nil, 0 }()
	if err := p.statementBody(st); err != nil {
		return p.errAt(err)
	}
	return nil
}

func (p *parser) statementBody(st *Statement) error {
	for {
		t, err := p.token()
		if err != nil {
			return err
		}
		switch t := t.(type) {
		case xml.StartElement:
			local := t.Name.Local
			if local == "Ntry" {
				p.ent++
				p.entOff, p.entLine = p.pos()
				p.push(fmt.Sprintf("Ntry[%d]", p.ent))
				if err := p.entry(st, &t); err != nil {
					return err
				}
				p.pop()
				continue
			}
			p.push(local)
			if err := p.statementChild(st, &t); err != nil {
				return err
			}
			p.pop()
		case xml.EndElement:
			p.ent = 0
			st.Checks = st.tally.checks(st)
			p.file.Statements = append(p.file.Statements, st)
			p.doc.stmts++
			return nil
		}
	}
}

func (p *parser) statementChild(st *Statement, t *xml.StartElement) error {
	switch t.Name.Local {
	case "Id", "ElctrncSeqNb", "LglSeqNb", "CreDtTm", "CpyDplctInd":
		s, err := p.text(t)
		if err != nil {
			return err
		}
		switch t.Name.Local {
		case "Id":
			st.ID = s
		case "CpyDplctInd":
			st.CopyDuplicate = s
		case "ElctrncSeqNb":
			st.ElctrncSeqNb = s
		case "LglSeqNb":
			st.LglSeqNb = s
		case "CreDtTm":
			tm, err := parseDateTime(s)
			if err != nil {
				return badValue("", "%v", err)
			}
			st.Created = tm
		}
	case "FrToDt":
		var x xFrToDt
		if err := p.decode(&x, t); err != nil {
			return err
		}
		var err error
		if st.From, err = parseDateTime(x.FrDtTm); err != nil {
			return badValue("FrDtTm", "%v", err)
		}
		if st.To, err = parseDateTime(x.ToDtTm); err != nil {
			return badValue("ToDtTm", "%v", err)
		}
	case "Acct":
		var x xAcct
		if err := p.decode(&x, t); err != nil {
			return err
		}
		st.Account, st.AccountIBAN = accountID(&x.xAcctID)
		st.Currency = strings.TrimSpace(x.Ccy)
		st.Owner = strings.TrimSpace(x.OwnrNm)
		st.ServicerBIC = firstNonEmpty(x.SvcrBICFI, x.SvcrBIC)
	case "Bal":
		var x xBal
		if err := p.decode(&x, t); err != nil {
			return err
		}
		b, err := convertBalance(&x)
		if err != nil {
			return err
		}
		st.Balances = append(st.Balances, b)
		if st.Currency == "" {
			st.Currency = b.Currency
		}
	case "TxsSummry":
		var x xTxsSummry
		if err := p.decode(&x, t); err != nil {
			return err
		}
		s, err := convertSummary(&x)
		if err != nil {
			return err
		}
		st.Summary = s
	default:
		return p.skip()
	}
	return nil
}

func (p *parser) entry(st *Statement, t *xml.StartElement) error {
	p.x = xNtry{}
	x := &p.x
	off := p.entOff
	oneLayer, err := p.decodeEntry(x, t)
	if err != nil {
		return err
	}
	raw := p.entRaw
	p.proj.message = st.Message
	var (
		e   *Entry
		txs []domain.Transaction
	)
	if oneLayer {
		e = &p.one.hdr
		e.Offset = off
		txs = p.proj.projectOne(st, e, p.one.details)
		n := len(p.one.details)
		if n == 1 && !p.one.details[0].hasCash {
			n = 0
		}
		st.tally.addCounted(e, n)
	} else {
		if e, err = convertEntry(x, p.ent, p.lim.MaxTxDtls); err != nil {
			return err
		}
		e.Offset = off
		txs = p.proj.project(st, e)
		st.tally.add(e)
	}
	if p.extras != nil {
		vals, err := p.extras.eval(raw, p.rootNS)
		if err != nil {
			return fmt.Errorf("evaluating extra XPath: %w", err)
		}
		if len(vals) > 0 {
			for i := range txs {
				txs[i].Additional = append(txs[i].Additional, vals...)
			}
		}
	}
	st.EntryCount++
	st.TxCount += len(txs)
	if p.keep {
		e.Projected = slices.Clone(txs) // txs is reused for the next entry
		st.Entries = append(st.Entries, e)
	}
	if p.fn != nil {
		if err := p.fn(st, e, txs); err != nil {
			return fmt.Errorf("%w: %w", ErrCallback, err)
		}
	}
	return nil
}
