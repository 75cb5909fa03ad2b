package tryton

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/internal/testenv"
)

// stampFx is one stamp test's own customer and invoices in the shared
// Tryton.
type stampFx struct {
	t     *testing.T
	party int
	ids   []int // two posted invoices: 100.00 and 50.00
	paid  []int // a payment's receivable line (book)
}

var stampSeq int

func newStampFx(t *testing.T) *stampFx {
	t.Helper()
	stampSeq++
	name := fmt.Sprintf("Stamp %d", stampSeq)
	l1, l2 := fmt.Sprintf("stamp%d-1", stampSeq), fmt.Sprintf("stamp%d-2", stampSeq)
	if err := server.AddInvoices(seed, 2026, []testenv.SeedInvoice{
		{Label: l1, Party: name, Amount: "100.00"}, {Label: l2, Party: name, Amount: "50.00"},
	}); err != nil {
		t.Fatal(err)
	}
	return &stampFx{t: t, party: seed.Parties[name], ids: []int{seed.Invoices[l1], seed.Invoices[l2]}}
}

func (f *stampFx) call(out any, method string, params ...any) {
	f.t.Helper()
	if err := server.Call(out, method, params...); err != nil {
		f.t.Fatalf("%s: %v", method, err)
	}
}

// book posts, in Tryton itself, a payment of amount by the customer (a
// move: the receivable credited, the suspense account debited) and
// returns its receivable line, not yet on any invoice.
func (f *stampFx) book(amount string) []int {
	f.t.Helper()
	date := time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC)
	var periods []int
	f.call(&periods, "model.account.period.search", [][]any{{"company", "=", seed.Company}, {"type", "=", "standard"},
		{"start_date", "<=", testenv.TrytonDate(date)}, {"end_date", ">=", testenv.TrytonDate(date)}}, 0, 1, nil)
	if len(periods) != 1 {
		f.t.Fatalf("periods of %v: %v", date, periods)
	}
	var moves []int
	f.call(&moves, "model.account.move.create", []map[string]any{{
		"journal": seed.RevenueJournal, "period": periods[0], "date": testenv.TrytonDate(date), "company": seed.Company,
		"lines": []any{[]any{"create", []map[string]any{
			{"account": seed.Suspense, "debit": testenv.TrytonDecimal(amount), "credit": testenv.TrytonDecimal("0")},
			{"account": seed.Receivable, "party": f.party, "debit": testenv.TrytonDecimal("0"), "credit": testenv.TrytonDecimal(amount)},
		}}},
	}})
	f.call(nil, "model.account.move.post", moves)
	var paid []int
	f.call(&paid, "model.account.move.line.search", [][]any{{"move", "=", moves[0]}, {"account", "=", seed.Receivable}}, 0, nil, nil)
	return paid
}

// pay puts a booked payment on an invoice, as Tryton's own pay wizard
// would: added to its payment lines (paid in part), or reconciled with
// its line to pay (paid in full).
func (f *stampFx) pay(invoice int, paid []int, full bool) {
	f.t.Helper()
	if !full {
		f.call(nil, "model.account.invoice.write", []int{invoice}, map[string]any{"payment_lines": []any{[]any{"add", paid}}})
		return
	}
	f.call(nil, "model.account.move.reconciliation.create", []map[string]any{{
		"date": testenv.TrytonDate(time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC)), "company": seed.Company,
		"lines": []any{[]any{"add", append(paid, f.linesToPay(invoice)...)}}}})
}

func (f *stampFx) linesToPay(invoice int) []int {
	f.t.Helper()
	var inv []struct {
		LinesToPay []int `json:"lines_to_pay"`
	}
	f.call(&inv, "model.account.invoice.read", []int{invoice}, []string{"lines_to_pay"})
	if len(inv) != 1 {
		f.t.Fatalf("invoice %d: %+v", invoice, inv)
	}
	return inv[0].LinesToPay
}

// TestOpenItemsStamp: on a real Tryton 6, every kind of change of what
// OpenItems returns moves the stamp — an invoice posted, paid in part or
// in full in Tryton, written back by Apply, cancelled, its customer
// renamed — and no change keeps it, nor does a bank account added
// (OpenItems reads none). A rate added moves it too, although none of
// these invoices is in a foreign currency. Each case also checks what
// OpenItems returns: it changes exactly when the stamp must move. The stamp waits for the
// last write to be stampQuiet old: 1 s here, so each step sleeps past it.
func TestOpenItemsStamp(t *testing.T) {
	tryton(t)
	tests := []struct {
		name  string
		setup func(f *stampFx) // before the first stamp
		do    func(f *stampFx, c *Client)
		moved bool
		// idle: the case changes nothing OpenItems returns although the
		// stamp moves (a rate moves it whether an item uses it or not).
		idle bool
	}{
		{name: "nothing", do: func(*stampFx, *Client) {}, moved: false},
		{name: "open items read", do: func(f *stampFx, c *Client) {
			if _, err := c.OpenItems(context.Background()); err != nil {
				f.t.Fatal(err)
			}
		}, moved: false},
		{name: "new invoice posted", do: func(f *stampFx, _ *Client) {
			if err := server.AddInvoices(seed, 2026, []testenv.SeedInvoice{{Label: f.t.Name(), Party: "Rossi Srl", Amount: "12.00"}}); err != nil {
				f.t.Fatal(err)
			}
		}, moved: true},
		{name: "invoice paid in part in Tryton", do: func(f *stampFx, _ *Client) { f.pay(f.ids[0], f.book("40.00"), false) }, moved: true},
		{name: "invoice paid in full in Tryton", do: func(f *stampFx, _ *Client) { f.pay(f.ids[0], f.book("100.00"), true) }, moved: true},
		// The payments booked before the first stamp: only the invoice (its
		// payment lines), or the reconciliation and the lines it reconciles,
		// are written in the step.
		{name: "booked payment added to an invoice", setup: func(f *stampFx) { f.paid = f.book("40.00") },
			do: func(f *stampFx, _ *Client) { f.pay(f.ids[0], f.paid, false) }, moved: true},
		{name: "booked payment reconciled with an invoice", setup: func(f *stampFx) { f.paid = f.book("100.00") },
			do: func(f *stampFx, _ *Client) { f.pay(f.ids[0], f.paid, true) }, moved: true},
		{name: "payment unreconciled", setup: func(f *stampFx) { f.pay(f.ids[0], f.book("100.00"), true) },
			do: func(f *stampFx, _ *Client) {
				var recs []int
				f.call(&recs, "model.account.move.line.search", [][]any{{"id", "in", f.linesToPay(f.ids[0])}}, 0, nil, nil)
				var lines []struct {
					Reconciliation int `json:"reconciliation"`
				}
				f.call(&lines, "model.account.move.line.read", recs, []string{"reconciliation"})
				if len(lines) != 1 || lines[0].Reconciliation == 0 {
					f.t.Fatalf("the invoice's line to pay: %+v, want one reconciled", lines)
				}
				f.call(nil, "model.account.move.reconciliation.delete", []int{lines[0].Reconciliation})
			}, moved: true},
		{name: "decision written back", do: func(f *stampFx, c *Client) {
			if err := c.Apply(context.Background(), []connectors.KeyedDecision{
				kd("stamp-"+f.t.Name(), booked, al(fmt.Sprint(f.ids[1]), "20.00", ""))}); err != nil {
				f.t.Fatal(err)
			}
		}, moved: true},
		{name: "invoice cancelled", do: func(f *stampFx, _ *Client) {
			f.call(nil, "model.account.invoice.cancel", []int{f.ids[1]})
		}, moved: true},
		{name: "customer renamed", do: func(f *stampFx, _ *Client) {
			f.call(nil, "model.party.party.write", []int{f.party}, map[string]any{"name": "Renamed " + f.t.Name()})
		}, moved: true},
		{name: "rate added", do: func(f *stampFx, _ *Client) {
			f.call(nil, "model.currency.currency.rate.create", []map[string]any{{"currency": seed.Currency,
				"date": testenv.TrytonDate(time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)), "rate": testenv.TrytonDecimal("1.000000")}})
		}, moved: true, idle: true}, // every invoice is in the company's currency here
		{name: "currency added", do: func(f *stampFx, _ *Client) {
			f.call(nil, "model.currency.currency.create", []map[string]any{{"name": "Currency " + f.t.Name(),
				"code": fmt.Sprintf("X%02d", stampSeq), "symbol": "x", "rounding": testenv.TrytonDecimal("0.01")}})
		}, moved: true, idle: true}, // no invoice in it
		{name: "bank account added", do: func(f *stampFx, _ *Client) {
			var banks []int
			f.call(&banks, "model.bank.create", []map[string]any{{"party": f.party}})
			f.call(nil, "model.bank.account.create", []map[string]any{{"bank": banks[0],
				"owners":  []any{[]any{"add", []int{f.party}}},
				"numbers": []any{[]any{"create", []map[string]any{{"type": "iban", "number": "DE89370400440532013000"}}}}}})
		}, moved: false}, // OpenItems reads no bank account
	}
	// Customer invoices may be cancelled (a company setting).
	if err := server.Call(nil, "model.company.company.write", []int{seed.Company}, map[string]any{"cancel_invoice_out": true}); err != nil {
		t.Fatal(err)
	}
	var moves []stampMove // the cases that move it, for checkStampParts
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newStampFx(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			c := newClient(t, nil)
			c.stampQuiet = time.Second
			ctx := context.Background()
			stamp := func(step string) string {
				t.Helper()
				time.Sleep(1100 * time.Millisecond) // the last write is stampQuiet old
				s, err := c.OpenItemsStamp(ctx)
				if err != nil {
					t.Fatalf("%s: %v", step, err)
				}
				if s == "" {
					t.Fatalf("%s: no stamp although nothing was written for 1.1 s", step)
				}
				return s
			}
			before := stamp("before")
			items := func() string {
				t.Helper()
				its, err := c.OpenItems(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return fmt.Sprint(its)
			}
			was := items()
			tc.do(f, c)
			after := stamp("after")
			if moved := after != before; moved != tc.moved {
				t.Errorf("stamp %q then %q: moved %v, want %v", before, after, moved, tc.moved)
			}
			if tc.moved {
				moves = append(moves, stampMove{tc.name, before, after})
			}
			// The case changes what OpenItems returns exactly when the stamp
			// must move: the test tests a change OpenItems sees.
			if changed := items() != was; changed != (tc.moved && !tc.idle) {
				t.Errorf("open items changed %v, want %v", changed, tc.moved)
			}
		})
	}
	// The move lines, the reconciliations and the count are kept although
	// no change here needs them alone: Tryton writes the invoice (its
	// state, its payment lines) on every payment, reconciliation and
	// unreconciliation made through its ORM. They guard what writes a line
	// or a reconciliation without the invoice.
	if !t.Failed() {
		checkStampParts(t, moves, []string{"account.invoice", "party.party", "currency.currency", "currency.currency.rate"}, []int{3})
	}
}

// errorLogger is the part of testing.TB checkStampParts uses.
type errorLogger interface {
	Helper()
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
}

// stampMove is a case's stamps before and after its change.
type stampMove struct{ name, before, after string }

// checkStampParts fails unless each part of the stamp in wantModels (nil:
// every model) and want (components by index: count, highest id, latest
// create_date, latest write_date, of every model at once) is the only part
// that moved in at least one case: a stamp without that part would have
// missed that change. It logs which cases each part alone catches.
func checkStampParts(t errorLogger, moves []stampMove, wantModels []string, want []int) {
	t.Helper()
	parts := func(s string) map[string][]string {
		m := map[string][]string{}
		for _, p := range strings.Split(s, "|")[1:] {
			model, vals, _ := strings.Cut(p, "=")
			m[model] = strings.Split(vals, ",")
		}
		return m
	}
	alone := map[string][]string{} // "model" or "model#component" → cases only it catches
	component := []string{"count", "id", "create_date", "write_date"}
	models := map[string]bool{}
	for _, mv := range moves {
		b, a := parts(mv.before), parts(mv.after)
		var movedModels, movedComps []string
		for model, bv := range b {
			models[model] = true
			av := a[model]
			changed := false
			for i := range bv {
				if i < len(av) && av[i] != bv[i] {
					changed = true
					movedComps = append(movedComps, model+"#"+component[i])
				}
			}
			if changed {
				movedModels = append(movedModels, model)
			}
		}
		if len(movedModels) == 1 {
			alone[movedModels[0]] = append(alone[movedModels[0]], mv.name)
		}
		// A component is needed if no other component moved.
		if len(movedComps) == 1 {
			alone[movedComps[0]] = append(alone[movedComps[0]], mv.name)
		}
		// A component left out of every model at once: needed if no other
		// component moved in any model.
		kinds := map[string]bool{}
		for _, c := range movedComps {
			_, k, _ := strings.Cut(c, "#")
			kinds[k] = true
		}
		if len(kinds) == 1 {
			for k := range kinds {
				alone["#"+k] = append(alone["#"+k], mv.name)
			}
		}
	}
	if wantModels == nil {
		for model := range models {
			wantModels = append(wantModels, model)
		}
	}
	for _, model := range wantModels {
		if len(alone[model]) == 0 {
			t.Errorf("a stamp without %s misses no case: no test needs it", model)
		}
	}
	for _, i := range want {
		if len(alone["#"+component[i]]) == 0 {
			t.Errorf("a stamp without the %s of every model misses no case: no test needs it", component[i])
		}
	}
	for k, v := range alone {
		t.Logf("only %s catches: %s", k, strings.Join(v, ", "))
	}
}

// countingT counts checkStampParts' errors.
type countingT struct{ errs []string }

func (c *countingT) Helper() {}
func (c *countingT) Errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}
func (c *countingT) Logf(string, ...any) {}

// TestCheckStampParts: the parts check fails when a model, or the count or
// write_date of every model, is never the only part that moved.
func TestCheckStampParts(t *testing.T) {
	const b = "tryton-v1|a=1,1,c1,w1|b=1,1,c1,w1"
	full := []stampMove{
		{"a written", b, "tryton-v1|a=1,1,c1,w2|b=1,1,c1,w1"},
		{"b deleted", b, "tryton-v1|a=1,1,c1,w1|b=0,1,c1,w1"},
	}
	c := &countingT{}
	checkStampParts(c, full, nil, []int{0, 3})
	if len(c.errs) != 0 {
		t.Errorf("every part needed: %v", c.errs)
	}
	c = &countingT{}
	checkStampParts(c, full[:1], nil, []int{0, 3})
	if len(c.errs) != 2 { // b never alone, the count never alone
		t.Errorf("b and the count needed by no case: %d errors %v, want 2", len(c.errs), c.errs)
	}
	c = &countingT{}
	checkStampParts(c, []stampMove{{"both", b, "tryton-v1|a=2,2,c1,w1|b=1,1,c2,w2"}}, nil, []int{3})
	if len(c.errs) != 3 { // a, b, write_date
		t.Errorf("a change seen by several parts: %d errors %v, want 3", len(c.errs), c.errs)
	}
	c = &countingT{}
	checkStampParts(c, full[:1], []string{"a"}, []int{3})
	if len(c.errs) != 0 {
		t.Errorf("a and write_date needed: %v", c.errs)
	}
}

// TestOpenItemsStampQuiet: right after a write (within stampQuiet, an
// hour by default) there is no stamp: the items are read.
func TestOpenItemsStampQuiet(t *testing.T) {
	tryton(t)
	newStampFx(t)
	c := newClient(t, nil)
	if c.stampQuiet != DefaultStampQuiet {
		t.Fatalf("stampQuiet %v, want %v", c.stampQuiet, DefaultStampQuiet)
	}
	s, err := c.OpenItemsStamp(context.Background())
	if err != nil || s != "" {
		t.Errorf("stamp right after a write: %q, %v; want none", s, err)
	}
	if !c.OpenItemsLasting() {
		t.Error("the items do not last")
	}
	c.stampQuiet = 0
	time.Sleep(1100 * time.Millisecond)
	if s, err = c.OpenItemsStamp(context.Background()); err != nil || !strings.HasPrefix(s, "tryton-v1|account.invoice=") {
		t.Errorf("stamp without quiet: %q, %v", s, err)
	}
}

// TestRegistryLedgerStamps: the registry's Tryton ledger stamps its items
// with or without a suspense account. No server needed: New does not
// connect.
func TestRegistryLedgerStamps(t *testing.T) {
	for _, suspense := range []string{"", "471"} {
		cfg := &Config{URL: "http://127.0.0.1:1", Database: "db", User: "u", Password: "p", Journal: "Bank", SuspenseAccount: suspense}
		led, err := connectors.Ledgers.New("tryton", cfg, connectors.LedgerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := led.(connectors.OpenItemsStamper); !ok {
			t.Errorf("suspense_account %q: %T is no OpenItemsStamper", suspense, led)
		}
		if err := led.Close(); err != nil {
			t.Error(err)
		}
	}
}
