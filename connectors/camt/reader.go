package camt

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/lettrage/lettrage/matcher"
)

// EntryFunc receives each entry, in document order, with its projected
// transactions. The statement is the one the entry belongs to; its checks
// are not computed yet. An error stops the parse.
type EntryFunc func(st *Statement, e *Entry, txs []matcher.Transaction) error

var nsPattern = regexp.MustCompile(`camt\.05([234])\.001\.(\d\d)`)

// Parse streams a camt.052/053/054 document entry by entry. name is the
// file name used in errors. fn is called once per entry, in document order;
// an error from fn stops the parse and is returned wrapped (with
// ErrCallback). The returned File carries the statements with balances,
// summaries and Checks, but not the entries. Every failure is a
// *ParseError; a truncated document is always an error.
func Parse(r io.Reader, name string, opts Options, fn func(st *Statement, e *Entry, txs []matcher.Transaction) error) (*File, error) {
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

// ReadAll reads a whole document, keeping every entry (with its projected
// transactions in Entry.Projected) in its statement. Memory grows with the
// file: use it for tests, golden files and inspection, Parse otherwise.
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
	skew     int64
	lineSkew int
	scratch  []byte
	// entRaw is the raw current entry when extras need it.
	entRaw    []byte
	fastState fastState

	path []string
	st   *Statement // current statement
	ent  int        // current entry index
	// entOff and entLine locate the current entry's start tag.
	entOff  int64
	entLine int
	proj    projector
}

func newParser(r io.Reader, name string, opts Options) (*parser, error) {
	p := &parser{name: name, lim: opts.Limits.withDefaults(), file: &File{Name: name}, fast: !opts.reference && !opts.Reference}
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
	head := p.raw.peek(4)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		p.raw.discard(3)
		p.bom = 3
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}), bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		dec := unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()
		p.in = newInput(transform.NewReader(p.raw, dec), p.lim.MaxDepth)
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
	t, err := p.dec.Token()
	if err != nil {
		return nil, classify(err)
	}
	return t, nil
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
func (p *parser) decodeEntry(x *xNtry, t *xml.StartElement) error {
	if !p.fast || p.in != p.raw || p.in.selfClose || len(p.in.name) == 0 {
		err := p.decode(x, t)
		p.entRaw = p.in.capBuf
		return err
	}
	in := p.in
	in.arm(p.lim.MaxEntryBytes)
	open := append([]byte(nil), in.name...)
	body, err := in.scanBody(p.scratch[:0])
	p.scratch = body
	p.skew += int64(len(body))
	p.lineSkew += bytes.Count(body, []byte{'\n'})
	if err != nil {
		return classify(err)
	}
	if in.capture {
		in.capBuf = append(in.capBuf, body...)
	}
	if !fastDecode(body, open, x, &p.fastState) {
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
			return err
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
		return err
	}
	if _, ok := tok.(xml.EndElement); !ok {
		return fmt.Errorf("%w: entry end not found", ErrMalformed)
	}
	return nil
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
	if err := p.findDocument(0); err != nil {
		return p.errAt(err)
	}
	return nil
}

// findDocument reads up to the Document element, through wrappers such as
// <message> with an AppHdr, parses it, and reads the wrappers to their end
// (a file cut inside a wrapper is truncated too).
func (p *parser) findDocument(level int) error {
	found := false
	for {
		t, err := p.token()
		if err != nil {
			var re *readError
			if level == 0 && !found && !errors.Is(err, ErrLimit) && !errors.As(err, &re) {
				return fmt.Errorf("%w: %w", ErrNotCAMT, err)
			}
			return err
		}
		switch t := t.(type) {
		case xml.Directive:
			if bytes.Contains(t, []byte("ENTITY")) {
				return fmt.Errorf("%w: DTD entity declarations are not allowed", ErrMalformed)
			}
		case xml.StartElement:
			local := t.Name.Local
			switch {
			case found:
				if err := p.skip(); err != nil {
					return err
				}
			case strings.EqualFold(local, "Document"):
				p.push(local)
				if err := p.document(t); err != nil {
					return err
				}
				p.pop()
				if level == 0 {
					return nil
				}
				found = true
			case level > 0 && (strings.Contains(local, "Hdr") || strings.Contains(local, "Header")):
				if err := p.skip(); err != nil {
					return err
				}
			case level < 4:
				p.push(local)
				if err := p.findDocument(level + 1); err != nil {
					return err
				}
				p.pop()
				if level == 0 {
					return nil
				}
				found = true
			default:
				return fmt.Errorf("%w: root element <%s> is not a camt Document", ErrNotCAMT, local)
			}
		case xml.EndElement:
			if found {
				return nil
			}
			return fmt.Errorf("%w: no Document element in <%s>", ErrNotCAMT, strings.Join(p.path, "/"))
		}
	}
}

var messageTypes = []struct{ prefix, typ string }{
	{"BkToCstmrAcctRpt", "camt.052"},
	{"BkToCstmrStmt", "camt.053"},
	{"BkToCstmrDbtCdtNtfctn", "camt.054"},
}

func (p *parser) document(se xml.StartElement) error {
	ns := se.Name.Space
	p.file.Namespace = ns
	for _, a := range se.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			p.rootNS = append(p.rootNS, a)
		}
	}
	if m := nsPattern.FindStringSubmatch(ns); m != nil {
		v, _ := strconv.Atoi(m[2])
		if v < 1 || v > 13 {
			return fmt.Errorf("%w: version %s of camt.05%s (namespace %q)", ErrUnsupportedMessage, m[2], m[1], ns)
		}
		p.file.Type, p.file.Version = "camt.05"+m[1], m[2]
	} else if ns != "" {
		if strings.Contains(ns, "camt.") {
			return fmt.Errorf("%w: namespace %q", ErrUnsupportedMessage, ns)
		}
		return fmt.Errorf("%w: namespace %q", ErrNotCAMT, ns)
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
				if p.file.Type == "" {
					return fmt.Errorf("%w: <%s> in a Document without a camt namespace", ErrNotCAMT, t.Name.Local)
				}
				return fmt.Errorf("%w: unexpected <%s> in a %s document", ErrMalformed, t.Name.Local, p.file.Type)
			}
			if p.file.Type == "" {
				p.file.Type = typ
			} else if typ != p.file.Type {
				return fmt.Errorf("%w: <%s> in a %s document", ErrMalformed, t.Name.Local, p.file.Type)
			}
			p.push(t.Name.Local)
			if err := p.message(); err != nil {
				return err
			}
			p.pop()
		case xml.EndElement:
			if p.file.Type == "" || len(p.file.Statements) == 0 && p.file.MsgID == "" {
				return fmt.Errorf("%w: empty Document", ErrMalformed)
			}
			return nil
		}
	}
}

func (p *parser) message() error {
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
				p.file.MsgID = strings.TrimSpace(h.MsgID)
				tm, err := parseDateTime(h.CreDtTm)
				if err != nil {
					return badValue("CreDtTm", "%v", err)
				}
				p.file.Created = tm
				p.pop()
				seenHdr = true
			case "Stmt", "Rpt", "Ntfctn":
				p.push(fmt.Sprintf("%s[%d]", t.Name.Local, len(p.file.Statements)+1))
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
			if len(p.file.Statements) == 0 {
				return ErrNoStatement
			}
			return nil
		}
	}
}

func (p *parser) statement() error {
	st := &Statement{Index: len(p.file.Statements) + 1}
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
			return nil
		}
	}
}

func (p *parser) statementChild(st *Statement, t *xml.StartElement) error {
	switch t.Name.Local {
	case "Id", "ElctrncSeqNb", "LglSeqNb", "CreDtTm":
		s, err := p.text(t)
		if err != nil {
			return err
		}
		switch t.Name.Local {
		case "Id":
			st.ID = s
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
	var x xNtry
	off := p.entOff
	if err := p.decodeEntry(&x, t); err != nil {
		return err
	}
	raw := p.entRaw
	e, err := convertEntry(&x, p.ent, p.lim.MaxTxDtls)
	if err != nil {
		return err
	}
	e.Offset = off
	p.proj.message = p.file.Type
	txs := p.proj.project(st, e)
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
	st.tally.add(e)
	if p.keep {
		e.Projected = txs
		st.Entries = append(st.Entries, e)
	}
	if p.fn != nil {
		if err := p.fn(st, e, txs); err != nil {
			return fmt.Errorf("%w: %w", ErrCallback, err)
		}
	}
	return nil
}
