package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// fxSchema adds a USD invoice of customer 1 and a table where the FX
// statements record the parameters they were given.
const fxSchema = `
INSERT INTO invoices VALUES (15, 1, 'INV-15', '2026-10-09', NULL, 'USD', 100.00, 100.00, NULL);
CREATE TABLE seen (stmt text, decision text, item int, amount numeric, write_off numeric, currency text,
	item_amount numeric, item_currency text);
`

// fxApply and fxUnapply take what is settled in the item's currency off
// (and back onto) the residual, and fail (division by zero) for an item in
// another currency than @item_currency.
const (
	fxApply = `WITH s AS (INSERT INTO seen VALUES ('apply', @decision_key, @item_id::int, @amount::numeric,
		@write_off::numeric, @currency, @item_amount::numeric, @item_currency)),
	u AS (UPDATE invoices SET residual = residual - @item_amount::numeric - @write_off::numeric
		WHERE id = @item_id::int AND currency = @item_currency RETURNING id)
	SELECT 1 / (count(*) = 1)::int FROM u`
	fxUnapply = `WITH s AS (INSERT INTO seen VALUES ('unapply', @decision_key, @item_id::int, @amount::numeric,
		@write_off::numeric, @currency, @item_amount::numeric, @item_currency)),
	u AS (UPDATE invoices SET residual = residual + @item_amount::numeric + @write_off::numeric
		WHERE id = @item_id::int AND currency = @item_currency RETURNING id)
	SELECT 1 / (count(*) = 1)::int FROM u`
	seenRows = `SELECT coalesce(string_agg(stmt || ':' || decision || ':' || item || ':' || amount || ':' || write_off || ':' ||
		currency || ':' || item_amount || ':' || item_currency, ' ' ORDER BY stmt, decision, item), '') FROM seen`
	fxAllocRows = `SELECT string_agg(decision_key || ':' || item_id || ':' || amount || ':' || write_off || ':' || currency || ':' ||
		coalesce(item_amount::text, '-') || ':' || coalesce(item_currency, '-'), ' ' ORDER BY decision_key, item_id) FROM `
)

func newFXLedger(t *testing.T) (*Client, string) {
	t.Helper()
	c, dsn := newLedger(t, func(cfg *Config) {
		cfg.ApplyStatement, cfg.UnapplyStatement = fxApply, fxUnapply
	})
	if _, err := cluster.Exec(dsn, fxSchema); err != nil {
		t.Fatal(err)
	}
	return c, dsn
}

// usd is a cross-currency allocation: cash in EUR settling amount in USD.
func usd(item, cash, settles string) domain.Allocation {
	return domain.Allocation{ItemID: item, Amount: domain.MustAmount(cash),
		ItemAmount: domain.MustAmount(settles), ItemCurrency: "USD"}
}

// A payment of 92.00 EUR that the payer instructed as 100.00 USD letters the
// USD invoice: recorded once with both amounts, apply_statement given the
// item's amount and currency (and, for a same-currency letter, the cash and
// the transaction's currency), a replay writing nothing.
func TestApplyCrossCurrencyOnce(t *testing.T) {
	ctx := context.Background()
	c, dsn := newFXLedger(t)
	fx := decision("k-fx", "tx-fx", usd("15", "92.00", "100.00"))
	same := decision("k-eur", "tx-1", alloc("11", "99.990", "0.005"))
	batch := []connectors.KeyedDecision{fx, same}
	for i := 0; i < 2; i++ { // the second time is a replay
		if err := c.Apply(ctx, batch); err != nil {
			t.Fatalf("Apply %d: %v", i, err)
		}
	}
	if got := residuals(t, dsn); got != "10=1250.000 11=0.000 12=300.100 13=0.000 15=0.000" {
		t.Errorf("residuals = %q, want 11 and 15 settled", got)
	}
	if got := count(t, dsn, seenRows); got != "apply:k-eur:11:99.990:0.005:EUR:99.990:EUR apply:k-fx:15:92.00:0:EUR:100.00:USD" {
		t.Errorf("apply_statement parameters = %q", got)
	}
	if got := count(t, dsn, fxAllocRows+`lettrage_allocations`); got != "k-eur:11:99.990:0.005:EUR:-:- k-fx:15:92.00:0:EUR:100.00:USD" {
		t.Errorf("allocations table = %q", got)
	}
}

// Unlettering a cross-currency letter gives back what it settled in the
// item's currency: negated in the allocations table, positive to
// unapply_statement.
func TestUnletterCrossCurrency(t *testing.T) {
	ctx := context.Background()
	c, dsn := newFXLedger(t)
	fx := decision("k-fx", "tx-fx", usd("15", "92.00", "100.00"), alloc("10", "1250", ""))
	fx.Tx.Amount = domain.MustAmount("1342.00")
	if err := c.Apply(ctx, []connectors.KeyedDecision{fx}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := residuals(t, dsn); got != "10=0.000 11=99.995 12=300.100 13=0.000 15=0.000" {
		t.Fatalf("residuals after apply = %q", got)
	}
	for i := 0; i < 2; i++ { // the second time is a no-op
		if err := c.Unletter(ctx, reversal("u-fx", "k-fx", fx)); err != nil {
			t.Fatalf("Unletter %d: %v", i, err)
		}
	}
	if got := residuals(t, dsn); got != "10=1250.000 11=99.995 12=300.100 13=0.000 15=100.000" {
		t.Errorf("residuals after unletter = %q, want 10 and 15 whole again", got)
	}
	if got := count(t, dsn, seenRows+` WHERE stmt = 'unapply'`); got != "unapply:u-fx:10:1250:0:EUR:1250:EUR unapply:u-fx:15:92.00:0:EUR:100.00:USD" {
		t.Errorf("unapply_statement parameters = %q", got)
	}
	if got := count(t, dsn, fxAllocRows+`lettrage_allocations WHERE reverses_key = 'k-fx'`); got != "u-fx:10:-1250:0:EUR:-:- u-fx:15:-92.00:0:EUR:-100.00:USD" {
		t.Errorf("reversal rows = %q", got)
	}
}

// settledQuery is an open items query for the USD invoice alone whose
// residual is what the allocations table has not settled: the table is the
// write-back.
const settledQuery = `SELECT i.id, i.currency, i.total AS amount,
	i.total - coalesce((SELECT sum(coalesce(a.item_amount, a.amount + a.write_off)) FROM lettrage_allocations a
		WHERE a.item_id = i.id::text), 0) AS residual
	FROM invoices i WHERE i.id IN (12, 15) ORDER BY i.id`

// Without statements, summing coalesce(item_amount, amount + write_off)
// per item gives what is settled in the item's currency, unlettering
// included.
func TestCrossCurrencyTableIsTheWriteBack(t *testing.T) {
	ctx := context.Background()
	c, dsn := newLedger(t, func(cfg *Config) { cfg.ApplyStatement, cfg.OpenItemsQuery = "", settledQuery })
	if _, err := cluster.Exec(dsn, fxSchema); err != nil {
		t.Fatal(err)
	}
	// Two partial allocations to one item in one decision are merged: what
	// they settle adds up.
	fx := decision("k-fx", "tx-fx", usd("15", "46.00", "50.00"), usd("15", "18.40", "20.00"), alloc("12", "100", "0.10"))
	if err := c.Apply(ctx, []connectors.KeyedDecision{fx}); err != nil {
		t.Fatal(err)
	}
	if got := openResiduals(t, c); got != "12=200.000 15=30.000" {
		t.Fatalf("after apply: %q, want 15 settled 70.00 USD", got)
	}
	if got := count(t, dsn, fxAllocRows+`lettrage_allocations`); got != "k-fx:12:100:0.10:EUR:-:- k-fx:15:64.40:0:EUR:70.00:USD" {
		t.Errorf("allocations table = %q", got)
	}
	if err := c.Unletter(ctx, reversal("u-fx", "k-fx", fx)); err != nil {
		t.Fatal(err)
	}
	if got := openResiduals(t, c); got != "12=300.100 15=100.000" {
		t.Errorf("after unletter: %q", got)
	}
}

// A table from before cross-currency letters (with or without the reversal
// columns) gains item_amount and item_currency, NULL on its rows; its
// same-currency letters are unlettered as before and cross-currency ones
// are written.
func TestFXMigratesAnOldTable(t *testing.T) {
	tests := []struct {
		name    string
		columns string // beyond the first version's
	}{
		{name: "first version"},
		{name: "with reversals", columns: ", reverses_key text, reason text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := database(t)
			if _, err := cluster.Exec(dsn, erpSchema+fxSchema+`CREATE SCHEMA erp;
			CREATE TABLE erp.allocs (decision_key text NOT NULL, item_id text NOT NULL, tx_key text NOT NULL,
			tx_ref text NOT NULL, account text NOT NULL, amount numeric NOT NULL, write_off numeric NOT NULL DEFAULT 0,
			currency text NOT NULL, booking_date date, rule text NOT NULL, lettered_at timestamptz NOT NULL,
			written_at timestamptz NOT NULL DEFAULT now()`+tc.columns+`, UNIQUE (decision_key, item_id));
			INSERT INTO erp.allocs (decision_key, item_id, tx_key, tx_ref, account, amount, write_off, currency, rule, lettered_at)
			VALUES ('k-old', '11', 'tx-1', 'REF-tx-1', 'FR76', 99.990, 0.005, 'EUR', 'reference', now());
			UPDATE invoices SET residual = 0 WHERE id = 11;`); err != nil {
				t.Fatal(err)
			}
			cfg := Config{DSN: dsn, OpenItemsQuery: openItemsQuery, AllocationsTable: "erp.allocs",
				ApplyStatement: fxApply, UnapplyStatement: fxUnapply}
			for i := 0; i < 2; i++ { // the second New finds everything in place
				c, err := New(ctx, cfg)
				if err != nil {
					t.Fatalf("New %d: %v", i, err)
				}
				c.Close()
			}
			if got := count(t, dsn, `SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod) || ':' || NOT attnotnull, ' ' ORDER BY attname)
				FROM pg_attribute WHERE attrelid = 'erp.allocs'::regclass AND attname IN ('item_amount', 'item_currency')`); got != "item_amount:numeric:true item_currency:text:true" {
				t.Errorf("new columns = %q, want item_amount numeric and item_currency text, nullable", got)
			}
			c, err := New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			old := decision("k-old", "tx-1", alloc("11", "99.990", "0.005"))
			if err := c.Unletter(ctx, reversal("u-old", "k-old", old)); err != nil {
				t.Fatalf("Unletter(old row): %v", err)
			}
			if err := c.Apply(ctx, []connectors.KeyedDecision{decision("k-fx", "tx-fx", usd("15", "92.00", "100.00"))}); err != nil {
				t.Fatalf("Apply(cross-currency): %v", err)
			}
			if got := residuals(t, dsn); got != "10=1250.000 11=99.995 12=300.100 13=0.000 15=0.000" {
				t.Errorf("residuals = %q, want 11 given back and 15 settled", got)
			}
			if got := count(t, dsn, fxAllocRows+`erp.allocs`); got != "k-fx:15:92.00:0:EUR:100.00:USD k-old:11:99.990:0.005:EUR:-:- u-old:11:-99.990:-0.005:EUR:-:-" {
				t.Errorf("allocations table = %q", got)
			}
			if got := count(t, dsn, seenRows+` WHERE stmt = 'unapply'`); got != "unapply:u-old:11:99.990:0.005:EUR:99.990:EUR" {
				t.Errorf("unapply_statement parameters of the old row = %q", got)
			}
		})
	}
}

// Cross-currency allocations that cannot be written consistently are
// refused alone, before anything of the decision is written.
func TestApplyCrossCurrencyRefusals(t *testing.T) {
	withWriteOff := usd("15", "90.00", "100.00")
	withWriteOff.WriteOff = domain.MustAmount("2.00")
	tests := []struct {
		name        string
		allocs      []domain.Allocation
		errContains string
	}{
		{name: "write-off", allocs: []domain.Allocation{withWriteOff}, errContains: "carries a write-off of 2.00 EUR"},
		{name: "two currencies", allocs: []domain.Allocation{usd("15", "46.00", "50.00"), alloc("15", "46.00", "")},
			errContains: "item 15 is allocated in two currencies (USD and the cash's currency)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			c, dsn := newFXLedger(t)
			err := c.Apply(ctx, []connectors.KeyedDecision{decision("k-bad", "tx-bad", tc.allocs...),
				decision("k-ok", "tx-ok", alloc("12", "300.10", ""))})
			var re *connectors.RejectedError
			if !errors.As(err, &re) || re.Key != "k-bad" || !errors.Is(err, ErrBadCrossCurrency) || !strings.Contains(re.Reason, tc.errContains) {
				t.Fatalf("Apply = %v, want k-bad rejected with %q", err, tc.errContains)
			}
			if got := residuals(t, dsn); got != "10=1250.000 11=99.995 12=0.000 13=0.000 15=100.000" {
				t.Errorf("residuals = %q, want only 12 settled", got)
			}
			if got := count(t, dsn, `SELECT string_agg(decision_key, ' ') FROM lettrage_allocations`); got != "k-ok" {
				t.Errorf("recorded = %q, want k-ok only", got)
			}
		})
	}
}

func TestMergeAllocationsSettles(t *testing.T) {
	tests := []struct {
		name string
		in   []domain.Allocation
		want string // item:amount:write_off:settles:item_currency
	}{
		{name: "same currency", in: []domain.Allocation{alloc("1", "10", "0.01"), alloc("1", "5", ""), alloc("2", "3", "")},
			want: "1:15:0.01:15.01: 2:3:0:3:"},
		{name: "cross currency", in: []domain.Allocation{usd("1", "46.00", "50.00"), usd("1", "18.40", "20.00"), alloc("2", "3", "")},
			want: "1:64.40:0:70.00:USD 2:3:0:3:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, a := range mergeAllocations(tc.in) {
				got = append(got, a.ItemID+":"+a.Amount.String()+":"+a.WriteOff.String()+":"+a.Settles().String()+":"+a.ItemCurrency)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("mergeAllocations = %q, want %q", strings.Join(got, " "), tc.want)
			}
		})
	}
}
