package camt

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"github.com/lettrage/lettrage/connectors/source/compress"
	"github.com/lettrage/lettrage/domain"
)

// ntfctn054 builds a camt.054.001.<ver> document, message id msgID, with
// one notification on the account of stmt053 holding the given entries.
func ntfctn054(ver, msgID, entries string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.` + ver + `">
<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>` + msgID + `</MsgId><CreDtTm>2024-01-03T10:00:00</CreDtTm></GrpHdr>
<Ntfctn><Id>N1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
` + entries + `
</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>`
}

// refNtry is an entry of amount amt with bank reference ref.
func refNtry(ref, amt string) string {
	return strings.Replace(strings.Replace(ntry(`<AcctSvcrRef>`+ref+`</AcctSvcrRef>`), "100.00", amt, 1), "<Sts>BOOK</Sts>", "<Sts><Cd>BOOK</Cd></Sts>", 1)
}

// docSummary renders what a parse gave, statement by statement:
// "index doc message.version msgid id: refs".
func docSummary(f *File, refs map[*Statement][]string) string {
	var parts []string
	for _, st := range f.Statements {
		parts = append(parts, fmt.Sprintf("%d %d %s.%s %s %s: %s", st.Index, st.Document, st.Message, st.Version, st.MsgID, st.ID, strings.Join(refs[st], ",")))
	}
	return strings.Join(parts, " | ")
}

// TestMultipleDocuments: every document of a file is read, its statements
// handed to the callback with their own message, version and message id,
// the statement index continuing across documents; File keeps the first
// document's header. Both entry paths agree.
func TestMultipleDocuments(t *testing.T) {
	a := stmt053("02", refNtry("A1", "10.00")+refNtry("A2", "20.00"))
	b := ntfctn054("08", "M2", refNtry("B1", "30.00"))
	body := func(doc string) string { return doc[strings.Index(doc, "?>")+2:] } // without the XML declaration
	latin1 := func(s string) string {
		out, err := charmap.ISO8859_1.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	two := "1 1 camt.053.02 M1 S1: A1,A2 | 2 2 camt.054.08 M2 N1: B1"
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"cat a b", a + "\n" + b + "\n", two},
		{"no newline between", a + b, two},
		{"CRLF and blank lines", strings.ReplaceAll(a+"\n\n"+b+"\n\n", "\n", "\r\n"), two},
		{"byte order mark before the second", a + "\n\xEF\xBB\xBF" + b, two},
		{"byte order marks before both", "\xEF\xBB\xBF" + a + "\xEF\xBB\xBF" + b, two},
		{"second without XML declaration", a + "\n" + body(b), two},
		{"comments and processing instructions between", a + "\n<!-- next -->\n<?note x?>\n" + b + "\n<!-- end -->\n", two},
		{"three documents", a + b + strings.NewReplacer("M1", "M3", "A1", "C1", "A2", "C2", "S1", "S3").Replace(a),
			two + " | 3 3 camt.053.02 M3 S3: C1,C2"},
		// Each document gets the references it would get in a file of its
		// own: the same statement twice in one file has the same keys twice
		// (and is lettered once, as when delivered in two files), where
		// "#2" keys would have made it two payments.
		{"same document twice", a + a, "1 1 camt.053.02 M1 S1: A1,A2 | 2 2 camt.053.02 M1 S1: A1,A2"},
		{"intraday report then statement", strings.NewReplacer("camt.053", "camt.052", "BkToCstmrStmt", "BkToCstmrAcctRpt", "Stmt>", "Rpt>").Replace(a) + a,
			"1 1 camt.052.02 M1 S1: A1,A2 | 2 2 camt.053.02 M1 S1: A1,A2"},
		{"wrapped documents", "<message><AppHdr/>" + body(a) + "</message>\n<message><AppHdr/>" + body(b) + "</message>", two},
		{"two documents in one wrapper", "<message><AppHdr/>" + body(a) + "<AppHdr/>" + body(b) + "</message>", two},
		{"wrappers in a wrapper", "<batch><message><AppHdr/>" + body(a) + "</message><message><AppHdr/>" + body(b) + "</message></batch>", two},
		{"ISO-8859-1 twice", latin1(strings.Replace(a, "UTF-8", "ISO-8859-1", 1) + strings.Replace(b, "UTF-8", "ISO-8859-1", 1)), two},
	}
	for _, tc := range tests {
		for _, reference := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/reference=%v", tc.name, reference), func(t *testing.T) {
				opts := DefaultOptions()
				opts.reference = reference
				refs := map[*Statement][]string{}
				var idx []int
				f, err := Parse(strings.NewReader(tc.in), "c.xml", opts, func(st *Statement, e *Entry, txs []domain.Transaction) error {
					if st.Message == "" || st.Version == "" || st.Document == 0 {
						t.Errorf("statement %d handed out without its document: %+v", st.Index, st)
					}
					idx = append(idx, st.Index)
					for _, tx := range txs {
						refs[st] = append(refs[st], tx.Ref)
					}
					return nil
				})
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if got := docSummary(f, refs); got != tc.want {
					t.Errorf("got  %s\nwant %s", got, tc.want)
				}
				if first := f.Statements[0]; f.Type != first.Message || f.Version != first.Version || f.MsgID != first.MsgID {
					t.Errorf("file header %s.%s %s, want the first document's", f.Type, f.Version, f.MsgID)
				}
				d, err := ReadAll(strings.NewReader(tc.in), "c.xml", opts)
				if err != nil {
					t.Fatalf("ReadAll: %v", err)
				}
				kept := map[*Statement][]string{}
				for _, st := range d.Statements {
					for _, e := range st.Entries {
						for _, tx := range e.Projected {
							kept[st] = append(kept[st], tx.Ref)
						}
					}
				}
				if got := docSummary(&d.File, kept); got != tc.want {
					t.Errorf("ReadAll: got %s", got)
				}
			})
		}
	}
}

// TestMultipleDocumentsLatin1: the second document of a file declared
// ISO-8859-1 twice is decoded once, not twice.
func TestMultipleDocumentsLatin1(t *testing.T) {
	doc := strings.Replace(stmt053("02", ntry(`<AddtlNtryInf>Müller Zürich</AddtlNtryInf>`)), "UTF-8", "ISO-8859-1", 1)
	in, err := charmap.ISO8859_1.NewEncoder().String(doc + "\n" + doc)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ReadAll(strings.NewReader(in), "l.xml", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Statements) != 2 {
		t.Fatalf("%d statements", len(d.Statements))
	}
	for _, st := range d.Statements {
		if got := st.Entries[0].AdditionalInfo; got != "Müller Zürich" {
			t.Errorf("document %d: %q", st.Document, got)
		}
	}
}

// TestTrailingContent: whatever follows the last document must be white
// space, comments or processing instructions, or a further document; else
// the whole file is refused with a located error, never half read.
func TestTrailingContent(t *testing.T) {
	a := stmt053("02", refNtry("A1", "10.00"))
	lines := strings.Count(a, "\n") + 1 // the line a ends on
	tests := []struct {
		name        string
		in          string
		want        error
		errContains []string
	}{
		{"text", a + "\ngarbage\n", ErrTrailingContent, []string{fmt.Sprintf("line %d", lines+1), fmt.Sprintf("(byte %d)", len(a)+1), `"garbage"`, "after document 1"}},
		{"text right after the end tag", a + "x", ErrTrailingContent, []string{fmt.Sprintf("(byte %d)", len(a)), `"x"`}},
		{"CSV appended", a + "\ndate;amount\n2024-01-01;12.50\n", ErrTrailingContent, []string{`"date;amount`}},
		{"element", a + "\n<foo>bar</foo>", ErrTrailingContent, []string{"at foo", fmt.Sprintf("(byte %d)", len(a)+1), "no Document"}},
		{"empty element", a + "<foo/>", ErrTrailingContent, []string{"at foo"}},
		{"XML declaration alone", a + "\n<?xml version=\"1.0\"?>\n", ErrTrailingContent, []string{"XML declaration", fmt.Sprintf("(byte %d)", len(a)+1)}},
		{"byte order mark alone", a + "\n\xEF\xBB\xBF", ErrTrailingContent, []string{"byte order mark"}},
		{"NUL padding", a + "\x00\x00\x00\x00", ErrMalformed, nil},
		{"stray end tag", a + "</Document>", ErrMalformed, nil},
		{"second document truncated", a + "\n" + a[:len(a)/2], ErrTruncated, []string{"Document[2]"}},
		{"second document not camt", a + `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn/></Document>`, ErrTrailingContent, []string{"pain.001", "Document[2]"}},
		{"second document of an unsupported version", a + stmt053("15", ""), ErrUnsupportedMessage, []string{"version 15"}},
		{"second document without statement", a + `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><GrpHdr><MsgId>X</MsgId></GrpHdr></BkToCstmrStmt></Document>`,
			ErrNoStatement, []string{"Document[2]/BkToCstmrStmt"}},
		{"bad amount in the second document", a + stmt053("02", strings.Replace(ntry(""), "100.00", "1,00", 1)), ErrBadValue,
			[]string{`statement "S1"`, "entry 1", "Document[2]/BkToCstmrStmt/Stmt[1]/Ntry[1]/Amt"}},
		{"second document in another encoding", strings.Replace(a, "UTF-8", "ISO-8859-1", 1) + a, ErrMalformed, []string{"encoding", "UTF-8", "ISO-8859-1"}},
		{"second declaration without encoding in a latin-1 file", strings.Replace(a, "UTF-8", "ISO-8859-1", 1) + `<?xml version="1.0"?>` + a[strings.Index(a, "?>")+2:], ErrMalformed, []string{"encoding"}},
		{"second document ISO-8859-1 after windows-1252", strings.Replace(a, "UTF-8", "windows-1252", 1) + strings.Replace(a, "UTF-8", "ISO-8859-1", 1), ErrMalformed, []string{"encoding"}},
	}
	for _, tc := range tests {
		for _, reference := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/reference=%v", tc.name, reference), func(t *testing.T) {
				opts := DefaultOptions()
				opts.reference = reference
				f, err := Parse(strings.NewReader(tc.in), "c.xml", opts, func(*Statement, *Entry, []domain.Transaction) error { return nil })
				if err == nil {
					t.Fatalf("no error, %d statements", len(f.Statements))
				}
				if f != nil {
					t.Errorf("a failed parse returned a file")
				}
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				if errors.Is(tc.want, ErrTrailingContent) && (!errors.Is(err, ErrMalformed) || errors.Is(err, ErrNotCAMT)) {
					t.Errorf("trailing content must be malformed, not %v", err)
				}
				var pe *ParseError
				if !errors.As(err, &pe) || pe.File != "c.xml" || pe.Line == 0 {
					t.Fatalf("err %#v is not a located *ParseError", err)
				}
				for _, s := range tc.errContains {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
			})
		}
	}
}

// TestFirstDocumentErrorsUnchanged: before any document was read, what is
// not a camt document is still ErrNotCAMT (the pipeline skips such files).
func TestFirstDocumentErrorsUnchanged(t *testing.T) {
	for _, in := range []string{"garbage", "<html><body/></html>", `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn/></Document>`} {
		_, err := Parse(strings.NewReader(in), "x.xml", DefaultOptions(), nil)
		if !errors.Is(err, ErrNotCAMT) || errors.Is(err, ErrTrailingContent) {
			t.Errorf("%q: err = %v, want ErrNotCAMT", in, err)
		}
	}
}

// TestCopyDuplicate: CpyDplctInd is kept on the statement, report or
// notification.
func TestCopyDuplicate(t *testing.T) {
	withInd := func(doc, block, ind string) string {
		return strings.Replace(doc, "<"+block+"><Id>", "<"+block+"><CpyDplctInd>"+ind+"</CpyDplctInd><Id>", 1)
	}
	rpt := strings.NewReplacer("camt.053", "camt.052", "BkToCstmrStmt", "BkToCstmrAcctRpt", "Stmt>", "Rpt>").Replace(stmt053("08", ntry("")))
	tests := []struct{ name, in, want string }{
		{"none", stmt053("08", ntry("")), ""},
		{"statement DUPL", withInd(stmt053("08", ntry("")), "Stmt", "DUPL"), "DUPL"},
		{"report CODU", withInd(rpt, "Rpt", "CODU"), "CODU"},
		{"notification COPY", withInd(ntfctn054("08", "M", ntry("")), "Ntfctn", " COPY "), "COPY"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := readAllString(t, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Statements[0].CopyDuplicate; got != tc.want {
				t.Errorf("CopyDuplicate %q, want %q", got, tc.want)
			}
		})
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGzipMembersAllRead: `cat a.xml.gz b.xml.gz` is one gzip delivery of
// two members; through compress.Expand every member's document is read, and
// bytes after the last member refuse the file.
func TestGzipMembersAllRead(t *testing.T) {
	a := stmt053("02", refNtry("A1", "10.00"))
	b := ntfctn054("08", "M2", refNtry("B1", "30.00"))
	read := func(data []byte) (string, error) {
		var got string
		err := compress.Expand("c.xml.gz", bytes.NewReader(data), compress.Limits{}, func(member string, r io.Reader) error {
			refs := map[*Statement][]string{}
			f, err := Parse(r, member, DefaultOptions(), func(st *Statement, _ *Entry, txs []domain.Transaction) error {
				for _, tx := range txs {
					refs[st] = append(refs[st], tx.Ref)
				}
				return nil
			})
			if err != nil {
				return err
			}
			got = docSummary(f, refs)
			return nil
		})
		return got, err
	}
	got, err := read(append(gzipped(t, a), gzipped(t, "\n"+b)...))
	if err != nil {
		t.Fatal(err)
	}
	if want := "1 1 camt.053.02 M1 S1: A1 | 2 2 camt.054.08 M2 N1: B1"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	for name, tail := range map[string][]byte{
		"garbage after the last member": []byte("this is not gzip data at all"),
		"a few zero bytes":              {0, 0, 0, 0},
		"a truncated member":            gzipped(t, b)[:20],
	} {
		_, err := read(append(append(gzipped(t, a), gzipped(t, b)...), tail...))
		if !errors.Is(err, compress.ErrCorrupt) {
			t.Errorf("%s: err = %v, want compress.ErrCorrupt", name, err)
		}
	}
}
