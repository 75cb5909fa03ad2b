package state

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// filler fills values of any type at random through reflection, field by
// field: a field added to a stored type is filled too, and the encoder
// that does not write it fails TestJSONEncoderEqualsEncodingJSON.
type filler struct{ r *rand.Rand }

var (
	amountType = reflect.TypeFor[domain.Amount]()
	timeType   = reflect.TypeFor[time.Time]()
)

// pieces are what the random strings are made of: plain text, the bytes
// encoding/json escapes (quotes, backslashes, controls, HTML), multi-byte
// runes, U+2028/U+2029 and invalid UTF-8.
var pieces = []string{"", "a", "FR76 3000", "Facture F-2024-001", `"`, `\`, "<", ">", "&", "\n", "\r", "\t", "\b", "\f",
	"\x00", "\x01", "\x1f", "\x7f", "é", "€", "日本", "\u2028", "\u2029", "\U0001F600", "\xff", "\xc3", "\xe2\x82", "/", "'", " "}

func (f filler) string() string {
	if f.r.IntN(4) == 0 {
		return ""
	}
	var b strings.Builder
	for range f.r.IntN(6) + 1 {
		b.WriteString(pieces[f.r.IntN(len(pieces))])
	}
	return b.String()
}

func (f filler) amount() domain.Amount {
	var s string
	switch f.r.IntN(6) {
	case 0:
		s = "0"
	case 1:
		s = []string{"0.00", "-0.00", "100", "18.150", "-5", "1000", "0.000001"}[f.r.IntN(7)]
	case 2: // beyond int64: the big form
		s = fmt.Sprintf("%d%018d.%02d", f.r.IntN(1000)+1, f.r.Int64N(1e18), f.r.IntN(100))
	default:
		s = fmt.Sprintf("%d.%0*d", f.r.Int64N(1e9)-f.r.Int64N(1e8), f.r.IntN(4)+1, f.r.IntN(1000))
	}
	a, err := domain.ParseAmount(s)
	if err != nil {
		panic(fmt.Sprintf("amount %q: %v", s, err))
	}
	return a
}

func (f filler) float() float64 {
	switch f.r.IntN(8) {
	case 0:
		return 0
	case 1: // 1e-10 to 1, across 1e-6: below it, the exponent form
		return math.Pow(10, -10*f.r.Float64())
	case 2: // 1e19 to 1e23, across 1e21: from it, the exponent form
		return math.Pow(10, 19+4*f.r.Float64())
	case 3:
		return -f.r.Float64()
	case 4:
		return float64(f.r.IntN(100)) / 100
	default:
		return f.r.Float64()
	}
}

// zones are the locations of the random times: UTC, offsets of minutes
// and hours, and a named zone.
var zones = func() []*time.Location {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	return []*time.Location{time.UTC, time.UTC, time.FixedZone("", 2*3600), time.FixedZone("", -(9*3600 + 30*60)), paris}
}()

func (f filler) time() time.Time {
	switch f.r.IntN(5) {
	case 0:
		return time.Time{}
	case 1:
		d := time.Date(2020+f.r.IntN(8), time.Month(f.r.IntN(12)+1), f.r.IntN(28)+1, 0, 0, 0, 0, time.UTC)
		return d
	}
	return time.Unix(f.r.Int64N(4e9), f.r.Int64N(1e9)*int64(f.r.IntN(2))).In(zones[f.r.IntN(len(zones))])
}

// fill sets v (settable) at random; pointers and slices are nil or empty
// one time in three.
func (f filler) fill(v reflect.Value) {
	switch v.Type() {
	case amountType:
		v.Set(reflect.ValueOf(f.amount()))
		return
	case timeType:
		v.Set(reflect.ValueOf(f.time()))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(f.string())
	case reflect.Bool:
		v.SetBool(f.r.IntN(2) == 0)
	case reflect.Int, reflect.Int64, reflect.Int32:
		if f.r.IntN(3) > 0 {
			v.SetInt(f.r.Int64N(2000) - 100)
		}
	case reflect.Float64:
		v.SetFloat(f.float())
	case reflect.Pointer:
		if f.r.IntN(3) > 0 {
			p := reflect.New(v.Type().Elem())
			f.fill(p.Elem())
			v.Set(p)
		}
	case reflect.Slice:
		if n := f.r.IntN(4); n > 0 || f.r.IntN(2) == 0 {
			s := reflect.MakeSlice(v.Type(), n, n)
			for i := range n {
				f.fill(s.Index(i))
			}
			v.Set(s)
		}
	case reflect.Map:
		if f.r.IntN(4) == 0 {
			return // nil
		}
		m := reflect.MakeMap(v.Type())
		for range f.r.IntN(5) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			f.fill(k)
			f.fill(e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i))
			}
		}
	default:
		panic("filler: no values of kind " + v.Kind().String() + " (" + v.Type().String() + ")")
	}
}

// sameAsEncodingJSON checks that the hand-written encoding of v equals
// json.Marshal's, or fails the same way, appending after prefix.
func sameAsEncodingJSON(t *testing.T, v any) {
	t.Helper()
	want, werr := json.Marshal(v)
	buf := []byte("prefix")
	var got string
	var err error
	switch x := v.(type) {
	case *domain.Transaction:
		got, err = txJSON(&buf, x)
	case *domain.Decision:
		got, err = decisionJSON(&buf, x)
	case map[string]domain.OpenItem:
		got, err = itemsJSON(&buf, x)
	default:
		t.Fatalf("no encoder for %T", v)
	}
	if (err != nil) != (werr != nil) || err != nil && err.Error() != werr.Error() {
		t.Fatalf("%T: error %v, encoding/json's %v", v, err, werr)
	}
	if got != string(want) {
		t.Fatalf("%T:\n got  %s\n want %s", v, got, want)
	}
	if err == nil && string(buf) != "prefix"+got && string(buf) != "prefix" {
		t.Fatalf("buffer %q after %q", buf, got)
	}
}

func TestJSONEncoderEqualsEncodingJSON(t *testing.T) {
	f := filler{rand.New(rand.NewPCG(18, 6))}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for range n {
		var tx domain.Transaction
		f.fill(reflect.ValueOf(&tx).Elem())
		sameAsEncodingJSON(t, &tx)
		var d domain.Decision
		f.fill(reflect.ValueOf(&d).Elem())
		sameAsEncodingJSON(t, &d)
		var items map[string]domain.OpenItem
		f.fill(reflect.ValueOf(&items).Elem())
		sameAsEncodingJSON(t, items)
	}
}

// The values encoding/json refuses go to it, and fail as they did.
func TestJSONEncoderFallsBack(t *testing.T) {
	for _, c := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		sameAsEncodingJSON(t, &domain.Decision{Confidence: c})
		sameAsEncodingJSON(t, &domain.Decision{Candidates: []domain.Candidate{{Score: c}}})
	}
	for _, at := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600)),
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", -25*3600)),
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", 23*3600+59*60)),
	} {
		sameAsEncodingJSON(t, &domain.Transaction{BookingDate: at})
		sameAsEncodingJSON(t, map[string]domain.OpenItem{"k": {DueDate: at}})
	}
	sameAsEncodingJSON(t, map[string]domain.OpenItem{})
	sameAsEncodingJSON(t, map[string]domain.OpenItem(nil))
}

func FuzzJSONEncoder(f *testing.F) {
	f.Add("F-1", "<b>\u2028", "\xff\x00", 0.95, int64(1700000000), int64(5), "12.50", true)
	f.Add("", "", "", 1e-9, int64(-62135596800), int64(0), "0", false)
	f.Fuzz(func(t *testing.T, a, b, c string, conf float64, sec, nsec int64, amount string, flag bool) {
		amt, err := domain.ParseAmount(amount)
		if err != nil {
			amt = domain.Amount{}
		}
		at := time.Unix(sec, nsec).In(zones[int(uint64(nsec)%uint64(len(zones)))])
		tx := domain.Transaction{Key: a, Ref: b, Account: c, Amount: amt, Credit: flag, BookingDate: at,
			Counterparty: domain.Party{Name: b, IBAN: c}, Unstructured: []string{a, b}, Documents: []string{c},
			Structured: []domain.Reference{{Type: a, Value: c}},
			Remitted:   []domain.RemittedDocument{{Number: a, Remitted: &amt, Tax: amt, Adjustments: []domain.DocumentAdjustment{{Amount: amt, Added: flag, Info: b}}}}}
		if flag {
			tx.Conversion = &domain.Conversion{Instructed: amt, InstructedCurrency: c}
			tx.Origin = &domain.Origin{BankRef: a, Document: int(nsec), EntryAmount: amt, Links: []string{b}}
		}
		sameAsEncodingJSON(t, &tx)
		d := domain.Decision{TxKey: a, Outcome: domain.Outcome(b), Rule: c, Confidence: conf, Explanation: a + b,
			Allocations: []domain.Allocation{{ItemID: c, Amount: amt, ItemAmount: amt, ItemCurrency: b}},
			Candidates:  []domain.Candidate{{ItemID: a, Score: conf}}, Excess: amt,
			Postings: []domain.Posting{{Kind: domain.PostingKind(c), Amount: amt, Reason: a}}}
		sameAsEncodingJSON(t, &d)
		sameAsEncodingJSON(t, map[string]domain.OpenItem{a: {ID: a, CustomerName: b, IBANs: []string{c}, DueDate: at, Amount: amt}, b: {ID: c, IssueDate: at}})
	})
}

// BenchmarkJSONEncoder: the transaction, decision and items of
// bulkCommit's records encoded by hand into a reused buffer, against
// encoding/json.
func BenchmarkJSONEncoder(b *testing.B) {
	c := bulkCommit(256, time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	txs, ds, items := make([]domain.Transaction, 256), make([]domain.Decision, 256), make([]map[string]domain.OpenItem, 256)
	for i := range txs {
		txs[i], ds[i], items[i] = *c.Decisions[i].Tx, c.Decisions[i].Decision, c.Decisions[i].Items
	}
	b.Run("hand", func(b *testing.B) {
		var buf []byte
		i := 0
		for b.Loop() {
			buf = buf[:0]
			k := i % len(txs)
			if _, err := txJSON(&buf, &txs[k]); err != nil {
				b.Fatal(err)
			}
			if _, err := decisionJSON(&buf, &ds[k]); err != nil {
				b.Fatal(err)
			}
			if _, err := itemsJSON(&buf, items[k]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		i := 0
		for b.Loop() {
			k := i % len(txs)
			for _, v := range []any{&txs[k], &ds[k], items[k]} {
				if _, err := jsonText(v); err != nil {
					b.Fatal(err)
				}
			}
			i++
		}
	})
}

// plain8 answers for eight bytes what plainASCII answers for each.
func TestPlain8(t *testing.T) {
	word := func(b [8]byte) (x uint64) {
		for i := 7; i >= 0; i-- {
			x = x<<8 | uint64(b[i])
		}
		return x
	}
	check := func(b [8]byte) {
		want := true
		for _, c := range b {
			want = want && c < 0x80 && plainASCII[c]
		}
		if got := plain8(word(b)); got != want {
			t.Fatalf("plain8(%q) = %v, want %v", b[:], got, want)
		}
	}
	for c := range 256 {
		for p := range 8 {
			b := [8]byte{'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}
			b[p] = byte(c)
			check(b)
		}
	}
	r := rand.New(rand.NewPCG(8, 18))
	for range 200000 {
		var b [8]byte
		for i := range b {
			b[i] = byte(0x18 + r.IntN(0x70)) // around the edges: 0x18…0x87
		}
		check(b)
	}
}

// The slim JSON of a transaction (schema 13) is encoding/json's without
// the first five members, which the row's columns hold; decoded with its
// columns it gives the transaction the whole JSON gives, and a row written
// before (the whole JSON) decodes as it did.
func TestTxSlimJSON(t *testing.T) {
	f := filler{rand.New(rand.NewPCG(13, 18))}
	n := 5000
	if testing.Short() {
		n = 500
	}
	q := func(s string) string {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for range n {
		var tx domain.Transaction
		f.fill(reflect.ValueOf(&tx).Elem())
		tx.BookingDate, tx.ValueDate = tx.BookingDate.UTC(), tx.ValueDate.UTC()
		tx.Key = "k" + tx.Key // a transaction's key is never empty
		full, err := json.Marshal(&tx)
		if err != nil {
			continue // TestJSONEncoderFallsBack: the same error as encoding/json
		}
		buf := []byte("prefix")
		slim, err := txSlimJSON(&buf, &tx)
		if err != nil {
			t.Fatal(err)
		}
		head := `{"key":` + q(tx.Key) + `,"tx_ref":` + q(tx.Ref) + `,"account":` + q(tx.Account) +
			`,"amount":` + q(tx.Amount.String()) + `,"currency":` + q(tx.Currency) + `,`
		if !strings.HasPrefix(string(full), head) || slim != "{"+strings.TrimPrefix(string(full), head) {
			t.Fatalf("slim JSON\n got  %s\n of   %s", slim, full)
		}
		// The columns, and what a row's whole JSON decodes to: the slim
		// one decodes to the same with the columns' values (the JSON
		// would have replaced invalid UTF-8).
		cols := txRow{key: tx.Key, ref: tx.Ref, account: tx.Account, currency: tx.Currency, amount: tx.Amount.String()}
		var old domain.Transaction
		if err := json.Unmarshal(full, &old); err != nil {
			t.Fatal(err)
		}
		oldJSON, _ := json.Marshal(&old)
		old.Key, old.Ref, old.Account, old.Currency = tx.Key, tx.Ref, tx.Account, tx.Currency
		newJSON, _ := json.Marshal(&old)
		for data, want := range map[string][]byte{slim: newJSON, string(full): oldJSON} {
			r := cols
			r.data = data
			var got domain.Transaction
			if err := r.decode(&got); err != nil {
				t.Fatal(err)
			}
			if gotJSON, _ := json.Marshal(&got); string(gotJSON) != string(want) {
				t.Fatalf("decoded from %s\n got  %s\n want %s", data, gotJSON, want)
			}
		}
	}
}
