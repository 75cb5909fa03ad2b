package odoo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/internal/testenv"
)

// TestOpenItemsStamp: on a real Odoo 17, every kind of change of what
// OpenItems returns moves the stamp — an invoice posted, paid in part or
// in full (by someone in Odoo or by Apply), reset to draft, its payment
// reference changed, its customer renamed, a bank account added or
// archived — and no change keeps it. The stamp waits for the last write to
// be stampQuiet old (write_date is to the second): 1 s here, so each step
// sleeps past it.
func TestOpenItemsStamp(t *testing.T) {
	tests := []struct {
		name  string
		do    func(f *fx, c *Client, ids []string)
		moved bool
	}{
		{name: "nothing", do: func(*fx, *Client, []string) {}, moved: false},
		{name: "open items read", do: func(f *fx, c *Client, _ []string) {
			if _, err := c.OpenItems(context.Background()); err != nil {
				f.t.Fatal(err)
			}
		}, moved: false},
		{name: "new invoice posted", do: func(f *fx, _ *Client, _ []string) { f.invoices(inv("Alpha", "12.00")) }, moved: true},
		{name: "new draft invoice", do: func(f *fx, _ *Client, _ []string) {
			f.invoices(testenv.OdooInvoice{Partner: "Alpha", Amount: "13.00", Draft: true})
		}, moved: false}, // not an open item
		{name: "invoice partly paid in Odoo", do: func(f *fx, _ *Client, ids []string) {
			if err := f.db.Pay(atoi(ids[0]), "40.00", time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)); err != nil {
				f.t.Fatal(err)
			}
		}, moved: true},
		{name: "invoice paid in full in Odoo", do: func(f *fx, _ *Client, ids []string) {
			if err := f.db.Pay(atoi(ids[0]), "100.00", time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)); err != nil {
				f.t.Fatal(err)
			}
		}, moved: true},
		{name: "decision written back", do: func(f *fx, c *Client, ids []string) {
			if err := c.Apply(context.Background(), []connectors.KeyedDecision{f.kd("k1", al(ids[1], "20.00", ""))}); err != nil {
				f.t.Fatal(err)
			}
		}, moved: true},
		{name: "invoice reset to draft", do: func(f *fx, _ *Client, ids []string) {
			f.call(nil, "account.move", "button_draft", []any{[]int{atoi(ids[1])}}, nil)
		}, moved: true},
		{name: "payment reference changed", do: func(f *fx, _ *Client, ids []string) {
			f.call(nil, "account.move", "write", []any{[]int{atoi(ids[1])}, map[string]any{"payment_reference": "RF18539007547034"}}, nil)
		}, moved: true},
		{name: "customer renamed", do: func(f *fx, _ *Client, _ []string) {
			f.call(nil, "res.partner", "write", []any{[]int{f.partner("Alpha")}, map[string]any{"name": "Alpha renamed " + f.id}}, nil)
		}, moved: true},
		{name: "bank account added", do: func(f *fx, _ *Client, _ []string) {
			f.call(nil, "res.partner.bank", "create", []any{map[string]any{"partner_id": f.partner("Alpha"),
				"acc_number": "DE89370400440532013000"}}, nil)
		}, moved: true},
		{name: "bank account archived", do: func(f *fx, _ *Client, _ []string) {
			var banks []int
			f.call(&banks, "res.partner.bank", "search", []any{[]any{[]any{"partner_id", "=", f.partner("Alpha")}}}, nil)
			f.call(nil, "res.partner.bank", "write", []any{banks, map[string]any{"active": false}}, nil)
		}, moved: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx(t)
			f.partner("Alpha", "FR7630006000011234567890189")
			ids := f.invoices(inv("Alpha", "100.00"), inv("Alpha", "50.00"))
			c := f.client(nil)
			c.stampQuiet = time.Second
			ctx := context.Background()
			stamp := func(step string) string {
				t.Helper()
				time.Sleep(2100 * time.Millisecond) // the last write is stampQuiet old
				s, err := c.OpenItemsStamp(ctx)
				if err != nil {
					t.Fatalf("%s: %v", step, err)
				}
				if s == "" {
					t.Fatalf("%s: no stamp although nothing was written for 2 s", step)
				}
				return s
			}
			before := stamp("before")
			tc.do(f, c, ids)
			after := stamp("after")
			if moved := after != before; moved != tc.moved {
				t.Errorf("stamp %q then %q: moved %v, want %v", before, after, moved, tc.moved)
			}
		})
	}
}

// TestOpenItemsStampQuiet: right after a write (within stampQuiet, an
// hour by default) there is no stamp: the items are read.
func TestOpenItemsStampQuiet(t *testing.T) {
	f := newFx(t)
	f.invoices(inv("Beta", "10.00"))
	c := f.client(nil)
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
	if s, err = c.OpenItemsStamp(context.Background()); err != nil || !strings.HasPrefix(s, "odoo-v1|account.move=") {
		t.Errorf("stamp without quiet: %q, %v", s, err)
	}
}

// TestRegistryLedgerSink: the registry's Odoo ledger stamps its items and
// unletters in every configuration, and is an ExceptionSink only with
// record_exceptions (a sink has every pass rewrite the reports, reading
// the items). No server needed: New does not connect.
func TestRegistryLedgerSink(t *testing.T) {
	for _, record := range []bool{false, true} {
		cfg := &Config{URL: "http://127.0.0.1:1", Database: "db", User: "u", APIKey: "k", Journal: "BNK1", RecordExceptions: record}
		led, err := connectors.Ledgers.New("odoo", cfg, connectors.LedgerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := led.(connectors.OpenItemsStamper); !ok {
			t.Errorf("record_exceptions %v: %T is no OpenItemsStamper", record, led)
		}
		if _, ok := led.(connectors.Unletterer); !ok {
			t.Errorf("record_exceptions %v: %T is no Unletterer", record, led)
		}
		if _, ok := led.(connectors.ExceptionSink); ok != record {
			t.Errorf("record_exceptions %v: %T is an ExceptionSink: %v", record, led, ok)
		}
		if err := led.Close(); err != nil {
			t.Error(err)
		}
	}
}
