package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
)

// unapplyStatement gives the residual back and books a negative payment.
const unapplyStatement = `WITH p AS (INSERT INTO payments VALUES (@decision_key, @item_id::int, -@amount::numeric, @booking_date::date))
	UPDATE invoices SET residual = residual + @amount::numeric + @write_off::numeric WHERE id = @item_id::int`

func withUnapply(cfg *Config) { cfg.UnapplyStatement = unapplyStatement }

func reversal(key, reverses string, d connectors.KeyedDecision) connectors.Reversal {
	return connectors.Reversal{Key: key, Reverses: reverses, Tx: d.Tx, Allocations: d.Decision.Allocations,
		Items: d.Items, Reason: "wrong invoice\nticket 12", At: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
}

func openResiduals(t *testing.T, c *Client) string {
	t.Helper()
	items, err := c.OpenItems(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, it.ID+"="+it.Residual.String())
	}
	return strings.Join(out, " ")
}

func TestUnletterGivesTheResidualBack(t *testing.T) {
	ctx := context.Background()
	c, dsn := newLedger(t, withUnapply)
	full := decision("k-full", "tx-1", alloc("10", "1250.00", ""))
	two := decision("k-two", "tx-3", alloc("11", "99.990", "0.005"), alloc("12", "200", ""))
	if err := c.Apply(ctx, []connectors.KeyedDecision{full, two}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := residuals(t, dsn); got != "10=0.000 11=0.000 12=100.100 13=0.000" {
		t.Fatalf("residuals after apply = %q", got)
	}
	rev := reversal("unl-two", "k-two", two)
	for i := 0; i < 2; i++ { // the second time is a no-op
		if err := c.Unletter(ctx, rev); err != nil {
			t.Fatalf("Unletter %d: %v", i, err)
		}
	}
	if got := residuals(t, dsn); got != "10=0.000 11=99.995 12=300.100 13=0.000" {
		t.Errorf("residuals after unletter = %q, want 11 and 12 whole again", got)
	}
	if got := openResiduals(t, c); got != "11=99.995 12=300.100" {
		t.Errorf("open items after unletter = %q", got)
	}
	if got := count(t, dsn, `SELECT count(*) || '/' || sum(amount) FROM payments`); got != "5/1250.000" {
		t.Errorf("payments = %q, want 3 payments and 2 negative ones: 5/1250.000", got)
	}
	if got := count(t, dsn, `SELECT string_agg(decision_key || ':' || item_id || ':' || amount || ':' || write_off || ':' ||
		coalesce(reverses_key, '-') || ':' || rule || ':' || coalesce(reason, '-') || ':' || booking_date, ' | ' ORDER BY decision_key, item_id)
		FROM lettrage_allocations WHERE decision_key = 'unl-two'`); got !=
		"unl-two:11:-99.990:-0.005:k-two:unletter:wrong invoice\nticket 12:2026-11-20 | unl-two:12:-200:0:k-two:unletter:wrong invoice\nticket 12:2026-11-20" {
		t.Errorf("reversal rows = %q", got)
	}
	got, err := c.Applied(ctx, []string{"k-full", "k-two", "unl-two", "unl-other"})
	if err != nil {
		t.Fatalf("Applied: %v", err)
	}
	if len(got) != 3 || !got["k-full"] || !got["k-two"] || !got["unl-two"] {
		t.Errorf("Applied = %v, want k-full, k-two and unl-two", got)
	}

	// Lettered again (a fresh decision key), then unlettered again.
	again := decision("k-again", "tx-3", alloc("12", "300.10", ""))
	if err := c.Apply(ctx, []connectors.KeyedDecision{again}); err != nil {
		t.Fatalf("Apply again: %v", err)
	}
	if err := c.Unletter(ctx, reversal("unl-again", "k-again", again)); err != nil {
		t.Fatalf("Unletter again: %v", err)
	}
	if got := residuals(t, dsn); got != "10=0.000 11=99.995 12=300.100 13=0.000" {
		t.Errorf("residuals after the second unletter = %q", got)
	}
}

func TestUnletterRejections(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name        string
		unapply     string
		rev         connectors.Reversal
		errIs       error
		errContains string
		rejected    bool
	}{
		{name: "unknown decision", rev: connectors.Reversal{Key: "unl-x", Reverses: "k-nope"},
			errIs: ErrNotLettered, errContains: "holds no lettering k-nope", rejected: true},
		{name: "a reversal", rev: connectors.Reversal{Key: "unl-x", Reverses: "unl-full"},
			errIs: ErrNotLettered, errContains: "is itself a reversal (of k-full)", rejected: true},
		{name: "reversed twice", rev: connectors.Reversal{Key: "unl-x", Reverses: "k-full"},
			errIs: ErrAlreadyReversed, errContains: "already reversed by unl-full", rejected: true},
		{name: "key of a letter", rev: connectors.Reversal{Key: "k-partial", Reverses: "k-two"},
			errIs: ErrKeyInUse},
		{name: "reversal key reused", rev: connectors.Reversal{Key: "unl-full", Reverses: "k-two"},
			errIs: ErrKeyInUse},
		{name: "no key", rev: connectors.Reversal{Reverses: "k-two"}, errContains: "needs a key"},
		{name: "unapply refused", unapply: `UPDATE invoices SET residual = -1 WHERE id = @item_id::int AND @reverses_key = 'k-two'`,
			rev: connectors.Reversal{Key: "unl-x", Reverses: "k-two"}, errContains: "check constraint", rejected: true},
		{name: "unapply failing", unapply: `SELECT boom(@reverses_key)`,
			rev: connectors.Reversal{Key: "unl-x", Reverses: "k-two"}, errContains: "running unapply_statement for reversal \"unl-x\", item \"11\": ERROR: disk on fire"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, dsn := newLedger(t, func(cfg *Config) {
				cfg.UnapplyStatement = unapplyStatement
				if tc.unapply != "" {
					cfg.UnapplyStatement = tc.unapply
				}
			})
			// boom fails (not a business error) for k-two only.
			if _, err := cluster.Exec(dsn, `CREATE FUNCTION boom(k text) RETURNS void LANGUAGE plpgsql AS $$
				BEGIN IF k = 'k-two' THEN RAISE EXCEPTION 'disk on fire' USING ERRCODE = '58000'; END IF; END $$`); err != nil {
				t.Fatal(err)
			}
			full := decision("k-full", "tx-1", alloc("10", "1250.00", ""))
			if err := c.Apply(ctx, []connectors.KeyedDecision{full,
				decision("k-partial", "tx-2", alloc("12", "100.05", "")),
				decision("k-two", "tx-3", alloc("11", "99.990", "0.005"), alloc("12", "200", ""))}); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if err := c.Unletter(ctx, connectors.Reversal{Key: "unl-full", Reverses: "k-full", Tx: full.Tx}); err != nil {
				t.Fatalf("Unletter k-full: %v", err)
			}
			before := residuals(t, dsn)
			rows := count(t, dsn, `SELECT count(*) FROM lettrage_allocations`)

			err := c.Unletter(ctx, tc.rev)
			if err == nil || !strings.Contains(err.Error(), tc.errContains) {
				t.Fatalf("Unletter = %v, want an error containing %q", err, tc.errContains)
			}
			if tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Errorf("Unletter = %v, want errors.Is %v", err, tc.errIs)
			}
			var re *connectors.RejectedError
			if got := errors.As(err, &re); got != tc.rejected {
				t.Errorf("rejected = %v, want %v (%v)", got, tc.rejected, err)
			} else if got && (re.Key != tc.rev.Key || !errors.Is(err, connectors.ErrRejected)) {
				t.Errorf("rejection = %+v", re)
			}
			if got := residuals(t, dsn); got != before {
				t.Errorf("residuals = %q, want unchanged %q", got, before)
			}
			if got := count(t, dsn, `SELECT count(*) FROM lettrage_allocations`); got != rows {
				t.Errorf("allocation rows = %s, want unchanged %s", got, rows)
			}
		})
	}
}

// Without unapply_statement the allocations table is the write-back: an
// open items query that subtracts it sees the residual come back.
func TestUnletterTableIsTheWriteBack(t *testing.T) {
	ctx := context.Background()
	c, _ := newLedger(t, func(cfg *Config) {
		cfg.ApplyStatement = ""
		cfg.OpenItemsQuery = `SELECT i.id, i.currency, i.total AS amount,
			i.total - coalesce((SELECT sum(a.amount + a.write_off) FROM lettrage_allocations a WHERE a.item_id = i.id::text), 0) AS residual
			FROM invoices i WHERE i.id IN (10, 12) ORDER BY i.id`
	})
	d := decision("k1", "tx-1", alloc("10", "1250.00", ""), alloc("12", "100", "0.10"))
	if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
		t.Fatal(err)
	}
	if got := openResiduals(t, c); got != "10=0.000 12=200.000" {
		t.Fatalf("after apply: %q", got)
	}
	if err := c.Unletter(ctx, reversal("u1", "k1", d)); err != nil {
		t.Fatal(err)
	}
	if got := openResiduals(t, c); got != "10=1250.000 12=300.100" {
		t.Errorf("after unletter: %q", got)
	}
}

// A table created before reversals existed gains its columns and index.
func TestUnletterMigratesAnOldTable(t *testing.T) {
	ctx := context.Background()
	dsn := database(t)
	if _, err := cluster.Exec(dsn, erpSchema+`CREATE SCHEMA erp;
	CREATE TABLE erp.allocs (decision_key text NOT NULL, item_id text NOT NULL, tx_key text NOT NULL,
	tx_ref text NOT NULL, account text NOT NULL, amount numeric NOT NULL, write_off numeric NOT NULL DEFAULT 0,
	currency text NOT NULL, booking_date date, rule text NOT NULL, lettered_at timestamptz NOT NULL,
	written_at timestamptz NOT NULL DEFAULT now(), UNIQUE (decision_key, item_id));
	INSERT INTO erp.allocs (decision_key, item_id, tx_key, tx_ref, account, amount, currency, rule, lettered_at)
	VALUES ('k-old', '10', 'tx-1', 'REF-tx-1', 'FR76', 1250, 'EUR', 'reference', now());
	UPDATE invoices SET residual = 0 WHERE id = 10;`); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the second New finds everything in place
		c, err := New(ctx, Config{DSN: dsn, OpenItemsQuery: openItemsQuery, AllocationsTable: "erp.allocs", UnapplyStatement: unapplyStatement})
		if err != nil {
			t.Fatalf("New %d: %v", i, err)
		}
		c.Close()
	}
	c, err := New(ctx, Config{DSN: dsn, OpenItemsQuery: openItemsQuery, AllocationsTable: "erp.allocs", UnapplyStatement: unapplyStatement})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := count(t, dsn, `SELECT indexdef FROM pg_indexes WHERE schemaname = 'erp' AND indexname = 'allocs_reverses_key'`); !strings.Contains(got, "WHERE (reverses_key IS NOT NULL)") {
		t.Errorf("index = %q", got)
	}
	old := decision("k-old", "tx-1", alloc("10", "1250", ""))
	if err := c.Unletter(ctx, reversal("u-old", "k-old", old)); err != nil {
		t.Fatalf("Unletter: %v", err)
	}
	if got := residuals(t, dsn); got != "10=1250.000 11=99.995 12=300.100 13=0.000" {
		t.Errorf("residuals = %q", got)
	}
}

// Concurrent reversals of one lettering queue on its rows: under one key
// exactly one writes and the other is a no-op; under two keys one wins and
// the other is rejected.
func TestUnletterConcurrently(t *testing.T) {
	ctx := context.Background()
	c, dsn := newLedger(t, withUnapply)
	d := decision("k1", "tx-1", alloc("12", "300.10", ""))
	if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
		t.Fatal(err)
	}
	if ok, rejected := unletterRace(t, c, d); len(ok) != 1 || rejected != 2 {
		t.Errorf("succeeded %v, rejected %d: want both calls of one key to succeed and the other key's two rejected", ok, rejected)
	}
	if got := residuals(t, dsn); got != "10=1250.000 11=99.995 12=300.100 13=0.000" {
		t.Errorf("residuals = %q: given back once", got)
	}
}

// unletterRace reverses d (decision key k1) four times at once, twice
// under each of two reversal keys, and returns the successes by key and
// the number of ErrAlreadyReversed rejections (any other error fails t).
func unletterRace(t *testing.T, c *Client, d connectors.KeyedDecision) (ok map[string]int, rejected int) {
	t.Helper()
	keys := []string{"u-a", "u-a", "u-b", "u-b"}
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Unletter(context.Background(), reversal(k, "k1", d))
		}()
	}
	wg.Wait()
	ok = map[string]int{}
	for i, err := range errs {
		switch {
		case err == nil:
			ok[keys[i]]++
		case errors.Is(err, ErrAlreadyReversed):
			rejected++
		default:
			t.Errorf("Unletter(%s) = %v", keys[i], err)
		}
	}
	return ok, rejected
}
