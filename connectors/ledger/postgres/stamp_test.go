package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// TestOpenItemsStamp: on a real server, every kind of change of what
// OpenItems returns — in the invoices or in the joined customers — moves
// the stamp, and what changes nothing it returns (no write, a write to a
// row the query does not return, a rolled-back write, the rows' order, a
// write undone) keeps it. Each case starts from the same ledger.
func TestOpenItemsStamp(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		sql   string // run on the ERP's database
		apply bool   // or write back a decision on INV-10 through the ledger
		moved bool
	}{
		{name: "nothing", moved: false},
		{name: "new invoice", sql: `INSERT INTO invoices VALUES (14, 2, 'INV-14', '2026-10-09', NULL, 'EUR', 5, 5, NULL)`, moved: true},
		{name: "invoice deleted", sql: `DELETE FROM invoices WHERE id = 12`, moved: true},
		{name: "invoice settled", sql: `UPDATE invoices SET residual = 0 WHERE id = 12`, moved: true},
		{name: "invoice partly paid", sql: `UPDATE invoices SET residual = 300.00 WHERE id = 12`, moved: true},
		{name: "settled invoice reopened", sql: `UPDATE invoices SET residual = 0.10 WHERE id = 13`, moved: true},
		{name: "payment reference changed", sql: `UPDATE invoices SET ref = 'RF71INV12' WHERE id = 12`, moved: true},
		{name: "payment reference null to empty", sql: `UPDATE invoices SET ref = '' WHERE id = 11`, moved: true},
		{name: "due date changed", sql: `UPDATE invoices SET due = '2026-11-30' WHERE id = 12`, moved: true},
		{name: "amount changed, residual kept", sql: `UPDATE invoices SET total = 400 WHERE id = 12`, moved: true},
		{name: "currency changed", sql: `UPDATE invoices SET currency = 'CHF' WHERE id = 12`, moved: true},
		{name: "invoice moved to the other customer", sql: `UPDATE invoices SET customer = 1 WHERE id = 12`, moved: true},
		{name: "customer renamed (joined table)", sql: `UPDATE customers SET name = 'Müller AG' WHERE id = 2`, moved: true},
		{name: "customer's name in other case", sql: `UPDATE customers SET name = 'MÜLLER GMBH' WHERE id = 2`, moved: true},
		{name: "customer IBAN added (joined table)", sql: `UPDATE customers SET ibans = '{DE89370400440532013000}' WHERE id = 2`, moved: true},
		{name: "customers' names swapped", sql: `UPDATE customers SET name = CASE id WHEN 1 THEN 'Müller GmbH' ELSE 'Dupont SARL' END`, moved: true},
		{name: "residuals swapped between invoices", sql: `UPDATE invoices SET residual = CASE id WHEN 10 THEN 300.10 WHEN 12 THEN 1250.00 ELSE residual END,
			total = CASE id WHEN 10 THEN 300.10 WHEN 12 THEN 1250.00 ELSE total END`, moved: true},
		{name: "a decision written back", apply: true, moved: true},
		{name: "settled invoice's reference changed (not returned)", sql: `UPDATE invoices SET ref = 'X' WHERE id = 13`, moved: false},
		{name: "rolled back", sql: `BEGIN; DELETE FROM invoices WHERE id = 12; ROLLBACK`, moved: false},
		{name: "a write undone", sql: `UPDATE invoices SET residual = 1 WHERE id = 12; UPDATE invoices SET residual = 300.10 WHERE id = 12`, moved: false},
		{name: "rows rewritten in another order", sql: `CREATE TABLE keep AS SELECT * FROM invoices; DELETE FROM invoices;
			INSERT INTO invoices SELECT * FROM keep ORDER BY id DESC; DROP TABLE keep`, moved: false},
		{name: "unrelated table", sql: `INSERT INTO payments VALUES ('x', 10, 1, NULL)`, moved: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, dsn := newLedger(t, nil)
			before, err := c.OpenItemsStamp(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if again, err := c.OpenItemsStamp(ctx); err != nil || again != before {
				t.Fatalf("stamp taken twice: %q then %q (%v)", before, again, err)
			}
			if !strings.HasPrefix(before, "postgres-v1|3|") {
				t.Fatalf("stamp %q: want the count of the 3 open items first", before)
			}
			if tc.sql != "" {
				if _, err := cluster.Exec(dsn, tc.sql); err != nil {
					t.Fatal(err)
				}
			}
			if tc.apply {
				if err := c.Apply(ctx, []connectors.KeyedDecision{decision("k1", "tx1", alloc("10", "250.00", ""))}); err != nil {
					t.Fatal(err)
				}
			}
			after, err := c.OpenItemsStamp(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if moved := after != before; moved != tc.moved {
				t.Errorf("stamp %q then %q: moved %v, want %v", before, after, moved, tc.moved)
			}
		})
	}
}

// TestOpenItemsStampSameItems: two databases whose query returns the same
// items get the same stamp; the stamp follows the items, not the tables.
func TestOpenItemsStampSameItems(t *testing.T) {
	ctx := context.Background()
	a, _ := newLedger(t, nil)
	b, dsn := newLedger(t, nil)
	if _, err := cluster.Exec(dsn, `INSERT INTO invoices VALUES (20, 2, 'INV-20', '2026-10-09', NULL, 'EUR', 5, 0, NULL)`); err != nil {
		t.Fatal(err)
	}
	sa, err := a.OpenItemsStamp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.OpenItemsStamp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sa != sb {
		t.Errorf("same open items, stamps %q and %q", sa, sb)
	}
}

// TestOpenItemsStampErrors: a query without a required column, or one the
// server refuses, is an error, not a stamp; the lazy ledger (what the
// registry builds) stamps as the client does.
func TestOpenItemsStampErrors(t *testing.T) {
	ctx := context.Background()
	c, dsn := newLedger(t, func(cfg *Config) { cfg.OpenItemsQuery = "SELECT 1 AS id" })
	if _, err := c.OpenItemsStamp(ctx); err == nil || !strings.Contains(err.Error(), "currency") {
		t.Errorf("missing columns: %v", err)
	}
	bad, err := New(ctx, Config{DSN: dsn, OpenItemsQuery: "SELECT * FROM nowhere"})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if _, err := bad.OpenItemsStamp(ctx); err == nil || !strings.Contains(err.Error(), "stamping open items") {
		t.Errorf("unknown table: %v", err)
	}
	good, _ := newLedger(t, nil)
	want, err := good.OpenItemsStamp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lazy, err := newLazyPostgres(good.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer lazy.Close()
	var led connectors.Ledger = lazy
	st, ok := led.(connectors.OpenItemsStamper)
	if !ok {
		t.Fatal("the registry's ledger is no OpenItemsStamper")
	}
	if got, err := st.OpenItemsStamp(ctx); err != nil || got != want || !st.OpenItemsLasting() {
		t.Errorf("lazy ledger stamp %q (%v), want %q", got, err, want)
	}
}

// TestRegistryLedgerSink: the daemon's ledger stamps its items in every
// configuration, and is an ExceptionSink only with exceptions_table (a
// sink has every pass rewrite its exceptions and the reports, reading the
// items); the one with the table records exceptions in it.
func TestRegistryLedgerSink(t *testing.T) {
	ctx := context.Background()
	_, dsn := newLedger(t, nil)
	for _, table := range []string{"", "lettrage_exceptions"} {
		cfg := &Config{DSN: dsn, OpenItemsQuery: openItemsQuery, ExceptionsTable: table}
		led, err := connectors.Ledgers.New("postgres", cfg, connectors.LedgerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer led.Close()
		if _, ok := led.(connectors.OpenItemsStamper); !ok {
			t.Errorf("exceptions_table %q: %T is no OpenItemsStamper", table, led)
		}
		sink, ok := led.(connectors.ExceptionSink)
		if ok != (table != "") {
			t.Errorf("exceptions_table %q: %T is an ExceptionSink: %v", table, led, ok)
		}
		if !ok {
			continue
		}
		if err := sink.RecordExceptions(ctx, []connectors.Exception{{Tx: domain.Transaction{Key: "tx-9", Ref: "R9", Currency: "EUR",
			Amount: domain.MustAmount("1.00")}, Decision: domain.Decision{Outcome: domain.Unmatched}}}); err != nil {
			t.Fatal(err)
		}
		if out, err := cluster.Exec(dsn, `SELECT tx_key FROM lettrage_exceptions`); err != nil || !strings.Contains(out, "tx-9") {
			t.Errorf("exceptions table: %q %v", out, err)
		}
	}
}
