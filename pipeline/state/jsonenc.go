package state

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/lettrage/lettrage/domain"
)

// The JSON of the rows a commit stores (transactions.data and .decision,
// decisions.data and .items), written by hand: the same bytes as
// encoding/json's (TestJSONEncoderEqualsEncodingJSON compares them on
// records filled at random through reflection, field by field, and
// FuzzJSONEncoder), without its reflection and without a fresh buffer per
// value. encoding/json was ≈ 9 s of a first pass of a million payments
// (docs/BENCHMARKS.md, "Round six: the commit's statements and
// encoding"). Nothing reading the rows changes: they are decoded with
// encoding/json as before.
//
// A value the encoder does not write exactly as encoding/json would — a
// time outside RFC 3339's years or zones, a NaN or infinite float, which
// encoding/json refuses — sets bad, and the caller marshals the value
// with encoding/json instead (txJSON, decisionJSON, itemsJSON), which then says what is wrong.

// jsonEnc appends JSON to b.
type jsonEnc struct {
	b   []byte
	bad bool
	// slim leaves out the transaction's members its row's columns hold
	// (txSlimJSON).
	slim bool
}

// The JSON of a transaction, a decision and a decision's items, appended
// to *buf and returned as a string sharing *buf's bytes: the caller must
// not write those bytes again before the string's last use (rowBatch
// resets its buffer once its rows are written; the driver copies the
// text when it binds it). A value jsonEnc refuses goes through
// encoding/json (a copy of it: the value itself stays on the caller's
// stack).

func txJSON(buf *[]byte, t *domain.Transaction) (string, error) {
	e, off := jsonEnc{b: *buf}, len(*buf)
	e.transaction(t)
	if s, ok := e.done(buf, off); ok {
		return s, nil
	}
	c := *t
	return jsonText(&c)
}

// txSlimJSON is txJSON without the members a transactions row's columns
// hold (txrow.go): key, tx_ref, account, amount and currency. A value the
// encoder refuses goes through encoding/json whole.
func txSlimJSON(buf *[]byte, t *domain.Transaction) (string, error) {
	e, off := jsonEnc{b: *buf, slim: true}, len(*buf)
	e.transaction(t)
	if s, ok := e.done(buf, off); ok {
		return s, nil
	}
	c := *t
	return jsonText(&c)
}

func decisionJSON(buf *[]byte, d *domain.Decision) (string, error) {
	e, off := jsonEnc{b: *buf}, len(*buf)
	e.decision(d)
	if s, ok := e.done(buf, off); ok {
		return s, nil
	}
	c := *d
	return jsonText(&c)
}

func itemsJSON(buf *[]byte, m map[string]domain.OpenItem) (string, error) {
	e, off := jsonEnc{b: *buf}, len(*buf)
	e.items(m)
	if s, ok := e.done(buf, off); ok {
		return s, nil
	}
	return jsonText(m)
}

// done gives the text written since off and keeps the buffer; when the
// encoder refused a value, it drops what it wrote and says false.
func (e *jsonEnc) done(buf *[]byte, off int) (string, bool) {
	if e.bad {
		*buf = e.b[:off]
		return "", false
	}
	*buf = e.b
	return unsafe.String(&e.b[off], len(e.b)-off), true
}

// key writes a member's name, after a comma unless it is the object's
// first (no value ends with '{').
func (e *jsonEnc) key(name string) {
	if e.b[len(e.b)-1] != '{' {
		e.b = append(e.b, ',')
	}
	e.b = append(e.b, '"')
	e.b = append(e.b, name...) // the names are plain ASCII
	e.b = append(e.b, '"', ':')
}

func (e *jsonEnc) str(name, s string) {
	e.key(name)
	e.string(s)
}

// strOmit is a string member tagged omitempty.
func (e *jsonEnc) strOmit(name, s string) {
	if s != "" {
		e.str(name, s)
	}
}

func (e *jsonEnc) boolean(name string, v bool) {
	e.key(name)
	e.b = strconv.AppendBool(e.b, v)
}

// intOmit is an int member tagged omitempty.
func (e *jsonEnc) intOmit(name string, v int) {
	if v != 0 {
		e.key(name)
		e.b = strconv.AppendInt(e.b, int64(v), 10)
	}
}

// amount is an Amount member: its text (MarshalText), quoted.
func (e *jsonEnc) amount(name string, a domain.Amount) {
	e.key(name)
	e.b = append(e.b, '"')
	e.b = a.AppendString(e.b)
	e.b = append(e.b, '"')
}

// amountZero is an Amount member tagged omitzero (Amount.IsZero).
func (e *jsonEnc) amountZero(name string, a domain.Amount) {
	if !a.IsZero() {
		e.amount(name, a)
	}
}

// time is a time.Time member as Time.MarshalJSON writes it: RFC 3339
// with nanoseconds, and the same checks (a year of four digits, a zone
// under 24 hours), or bad.
func (e *jsonEnc) time(name string, t time.Time) {
	e.key(name)
	e.b = append(e.b, '"')
	n0 := len(e.b)
	e.b = t.AppendFormat(e.b, time.RFC3339Nano)
	if e.b[n0+4] != '-' {
		e.bad = true
	} else if last := len(e.b) - 1; e.b[last] != 'Z' {
		c := e.b[last-5]
		if '0' <= c && c <= '9' || 10*(e.b[last-4]-'0')+(e.b[last-3]-'0') >= 24 {
			e.bad = true
		}
	}
	e.b = append(e.b, '"')
}

// float is a float64 member as encoding/json writes it: the shortest
// decimal that reads back the same, in exponent form below 1e-6 and from
// 1e21 on, with the exponent's leading zero dropped ("1e-07" → "1e-7").
func (e *jsonEnc) float(name string, f float64) {
	e.key(name)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		e.bad = true
		e.b = append(e.b, '0')
		return
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	e.b = strconv.AppendFloat(e.b, f, format, -1, 64)
	if n := len(e.b); format == 'e' && e.b[n-4] == 'e' && e.b[n-3] == '-' && e.b[n-2] == '0' {
		e.b[n-2] = e.b[n-1]
		e.b = e.b[:n-1]
	}
}

// strings is a []string member tagged omitempty.
func (e *jsonEnc) strings(name string, ss []string) {
	list(e, name, ss, func(s *string) { e.string(*s) })
}

// list writes an array member tagged omitempty: each element of xs by
// each, comma-separated.
func list[T any](e *jsonEnc, name string, xs []T, each func(x *T)) {
	if len(xs) == 0 {
		return
	}
	e.key(name)
	e.b = append(e.b, '[')
	for i := range xs {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		each(&xs[i])
	}
	e.b = append(e.b, ']')
}

const hexDigits = "0123456789abcdef"

// plainASCII says which ASCII bytes a JSON string carries as they are:
// not the controls, '"', '\\', nor (HTML escaping) '<', '>' and '&'.
var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// plain8 says that the eight bytes of x are all plainASCII: none is a
// control, '"', '\\', '<', '>', '&' nor of the high half. (zero(v) has
// the high bit of each zero byte of v set, and maybe of bytes above one;
// a wrong "not plain" only sends the bytes to the loop byte by byte.)
func plain8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	below := (x - ones*0x20) & ^x & highs // a byte under 0x20
	return (x&highs | below | zero(x^(ones*'"')) | zero(x^(ones*'\\')) | zero(x^(ones*'<')) | zero(x^(ones*'>')) |
		zero(x^(ones*'&'))) == 0
}

// string writes s quoted as encoding/json does (HTML escaping on): '"'
// and '\\' and the control characters escaped (\b \f \n \r \t short),
// '<', '>' and '&' as \u003c…, invalid UTF-8 as \ufffd, U+2028 and
// U+2029 as \u2028 and \u2029.
func (e *jsonEnc) string(s string) {
	b := append(e.b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight plain bytes at a time, most of a payment's text.
		for i+8 <= len(s) && plain8(uint64(s[i])|uint64(s[i+1])<<8|uint64(s[i+2])<<16|uint64(s[i+3])<<24|
			uint64(s[i+4])<<32|uint64(s[i+5])<<40|uint64(s[i+6])<<48|uint64(s[i+7])<<56) {
			i += 8
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if plainASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	e.b = append(b, '"')
}

func (e *jsonEnc) party(p *domain.Party) {
	e.b = append(e.b, '{')
	e.strOmit("name", p.Name)
	e.strOmit("iban", p.IBAN)
	e.strOmit("account", p.Account)
	e.strOmit("bic", p.BIC)
	e.strOmit("ultimate_name", p.UltimateName)
	e.b = append(e.b, '}')
}

// transaction writes a domain.Transaction: its members in their order,
// the Conversion's promoted in its place.
func (e *jsonEnc) transaction(t *domain.Transaction) {
	e.b = append(e.b, '{')
	if !e.slim {
		e.str("key", t.Key)
		e.str("tx_ref", t.Ref)
		e.str("account", t.Account)
		e.amount("amount", t.Amount)
		e.str("currency", t.Currency)
	}
	e.boolean("credit", t.Credit)
	e.str("status", t.Status)
	if t.Reversal {
		e.boolean("reversal", true)
	}
	if t.Return {
		e.boolean("return", true)
	}
	e.time("booking_date", t.BookingDate)
	e.time("value_date", t.ValueDate)
	e.key("counterparty")
	e.party(&t.Counterparty)
	e.strOmit("end_to_end_id", t.EndToEndID)
	list(e, "structured", t.Structured, func(r *domain.Reference) {
		e.b = append(e.b, '{')
		e.strOmit("type", r.Type)
		e.strOmit("issuer", r.Issuer)
		e.str("value", r.Value)
		e.b = append(e.b, '}')
	})
	e.strings("documents", t.Documents)
	list(e, "remitted", t.Remitted, e.remitted)
	e.strings("unstructured", t.Unstructured)
	e.strings("additional", t.Additional)
	if c := t.Conversion; c != nil {
		e.amountZero("instructed", c.Instructed)
		e.strOmit("instructed_currency", c.InstructedCurrency)
		e.strOmit("exchange_rate", c.ExchangeRate)
	}
	if o := t.Origin; o != nil {
		e.key("origin")
		e.b = append(e.b, '{')
		e.strOmit("bank_ref", o.BankRef)
		e.strOmit("message", o.Message)
		e.strOmit("copy_duplicate", o.CopyDuplicate)
		e.intOmit("document", o.Document)
		e.amountZero("entry_amount", o.EntryAmount)
		e.strings("links", o.Links)
		e.intOmit("batch", o.Batch)
		e.intOmit("details", o.Details)
		e.intOmit("merged", o.Merged)
		e.b = append(e.b, '}')
	}
	e.b = append(e.b, '}')
}

func (e *jsonEnc) remitted(d *domain.RemittedDocument) {
	e.b = append(e.b, '{')
	e.strOmit("number", d.Number)
	e.strOmit("type", d.Type)
	e.strOmit("reference", d.Reference)
	e.strOmit("currency", d.Currency)
	if d.Remitted != nil {
		e.amount("remitted", *d.Remitted)
	}
	if d.Due != nil {
		e.amount("due", *d.Due)
	}
	e.amountZero("discount", d.Discount)
	e.amountZero("credit_note", d.CreditNote)
	e.amountZero("tax", d.Tax)
	e.strOmit("tax_type", d.TaxType)
	list(e, "adjustments", d.Adjustments, func(a *domain.DocumentAdjustment) {
		e.b = append(e.b, '{')
		e.amount("amount", a.Amount)
		if a.Added {
			e.boolean("added", true)
		}
		e.strOmit("reason", a.Reason)
		e.strOmit("info", a.Info)
		e.b = append(e.b, '}')
	})
	e.b = append(e.b, '}')
}

// decision writes a domain.Decision (Situation is not stored: `json:"-"`).
func (e *jsonEnc) decision(d *domain.Decision) {
	e.b = append(e.b, '{')
	e.str("tx_key", d.TxKey)
	e.str("outcome", string(d.Outcome))
	e.strOmit("rule", d.Rule)
	e.float("confidence", d.Confidence)
	e.str("explanation", d.Explanation)
	list(e, "allocations", d.Allocations, func(a *domain.Allocation) {
		e.b = append(e.b, '{')
		e.str("item_id", a.ItemID)
		e.amount("amount", a.Amount)
		e.amount("writeoff", a.WriteOff)
		e.amountZero("item_amount", a.ItemAmount)
		e.strOmit("item_currency", a.ItemCurrency)
		e.b = append(e.b, '}')
	})
	e.amount("excess", d.Excess)
	list(e, "candidates", d.Candidates, func(c *domain.Candidate) {
		e.b = append(e.b, '{')
		e.str("item_id", c.ItemID)
		e.str("customer_id", c.CustomerID)
		e.float("score", c.Score)
		e.b = append(e.b, '}')
	})
	e.strOmit("reason", d.Reason)
	e.strOmit("unletter_key", d.UnletterKey)
	list(e, "postings", d.Postings, func(p *domain.Posting) {
		e.b = append(e.b, '{')
		e.str("kind", string(p.Kind))
		e.strOmit("customer_id", p.CustomerID)
		e.strOmit("item_id", p.ItemID)
		e.amount("amount", p.Amount)
		e.strOmit("account", p.Account)
		e.strOmit("reason", p.Reason)
		e.b = append(e.b, '}')
	})
	e.b = append(e.b, '}')
}

// items writes a decision's items: a JSON object in the order of its
// keys (encoding/json sorts a map's keys), null for a nil map.
func (e *jsonEnc) items(m map[string]domain.OpenItem) {
	if m == nil {
		e.b = append(e.b, "null"...)
		return
	}
	var small [8]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.b = append(e.b, '{')
	for i, k := range keys {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.string(k)
		e.b = append(e.b, ':')
		it := m[k]
		e.openItem(&it)
	}
	e.b = append(e.b, '}')
}

func (e *jsonEnc) openItem(it *domain.OpenItem) {
	e.b = append(e.b, '{')
	e.str("id", it.ID)
	e.str("customer_id", it.CustomerID)
	e.str("customer_name", it.CustomerName)
	e.str("document_number", it.DocumentNumber)
	e.strOmit("payment_reference", it.PaymentReference)
	e.strings("ibans", it.IBANs)
	e.time("issue_date", it.IssueDate)
	e.time("due_date", it.DueDate)
	e.str("currency", it.Currency)
	e.amount("amount", it.Amount)
	e.amount("residual", it.Residual)
	e.b = append(e.b, '}')
}

// jsonText is v's JSON as a string that shares json.Marshal's fresh
// buffer instead of copying it: nothing else holds or writes that buffer,
// and the driver copies the text when it binds it.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil || len(b) == 0 {
		return "", err
	}
	return unsafe.String(&b[0], len(b)), nil
}
