package postgres

import (
	"context"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// discountPost is a post_statement that closes a cash discount on the
// invoice it names (and records the other kinds as credits); its unpost
// counterpart gives it back.
const (
	discountPost = `WITH d AS (UPDATE invoices SET residual = residual - @amount::numeric
		WHERE @kind = 'cash_discount' AND id = nullif(@item_id, '')::int RETURNING id)
	INSERT INTO credits SELECT @decision_key, @seq::int, @kind || '/' || @ledger_account || '/' || @item_id, NULL, @amount::numeric, @reason`
	discountUnpost = `WITH d AS (UPDATE invoices SET residual = residual + @amount::numeric
		WHERE @kind = 'cash_discount' AND id = nullif(@item_id, '')::int RETURNING id)
	INSERT INTO credits SELECT @decision_key, @seq::int, @kind || '/' || @ledger_account || '/' || @item_id, NULL, -@amount::numeric, @reason`
)

// TestCashDiscountPostings: a cash-discount posting is recorded with the
// item it closes and its account (item_id, ledger_account), handed to
// post_statement as @item_id and @ledger_account, and reversed with them.
func TestCashDiscountPostings(t *testing.T) {
	ctx := context.Background()
	c, dsn := newPostingLedger(t, func(cfg *Config) {
		cfg.PostStatement, cfg.UnpostStatement = discountPost, discountUnpost
	})
	d := decision("k-disc", "tx-1", alloc("12", "98.00", ""))
	d.Decision.Rule = "remittance"
	d.Decision.Postings = []domain.Posting{{Kind: domain.CashDiscountPosting, CustomerID: "1", ItemID: "12",
		Amount: domain.MustAmount("2.00"), Account: "665", Reason: "ESCOMPTE"}}
	before := residuals(t, dsn)
	for i := 0; i < 2; i++ {
		if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
			t.Fatalf("Apply %d: %v", i, err)
		}
	}
	if got := count(t, dsn, `SELECT string_agg(decision_key || ':' || kind || ':' || item_id || ':' || ledger_account || ':' || amount || ':' || reason, ' ')
		FROM lettrage_postings`); got != "k-disc:cash_discount:12:665:2.00:ESCOMPTE" {
		t.Errorf("postings = %q", got)
	}
	if got := count(t, dsn, creditRows); got != "k-disc:1:cash_discount/665/12:-:2.000:ESCOMPTE" {
		t.Errorf("credits = %q", got)
	}
	if got := residuals(t, dsn); got == before {
		t.Errorf("residuals unchanged: %s", got)
	}
	rev := reversal("u-disc", "k-disc", d)
	if err := c.Unletter(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if got := count(t, dsn, `SELECT string_agg(decision_key || ':' || item_id || ':' || ledger_account || ':' || amount, ' ')
		FROM lettrage_postings WHERE reverses_key IS NOT NULL`); got != "u-disc:12:665:-2.00" {
		t.Errorf("reversal rows = %q", got)
	}
	if got := residuals(t, dsn); got != before {
		t.Errorf("residuals after the reversal %q, want %q", got, before)
	}
}

// TestCashDiscountRefused: a cash discount without its item is refused with
// the reason.
func TestCashDiscountRefused(t *testing.T) {
	ctx := context.Background()
	c, _ := newPostingLedger(t, nil)
	d := decision("k-disc", "tx-1", alloc("12", "98.00", ""))
	d.Decision.Postings = []domain.Posting{{Kind: domain.CashDiscountPosting, Amount: domain.MustAmount("2.00"), Account: "665"}}
	err := c.Apply(ctx, []connectors.KeyedDecision{d})
	if rej, only := connectors.Rejections(err); !only || len(rej) != 1 || rej[0].Reason != "a cash-discount posting needs the open item it closes and the account it is booked to" {
		t.Errorf("Apply = %v", err)
	}
}

// A postings table from before cash discounts gains item_id and
// ledger_account (” on its rows); its postings are reversed as before and
// cash discounts are written.
func TestCashDiscountMigratesAnOldTable(t *testing.T) {
	ctx := context.Background()
	dsn := database(t)
	if _, err := cluster.Exec(dsn, erpSchema+creditsSchema+`CREATE TABLE lettrage_postings (decision_key text NOT NULL, seq int NOT NULL,
		kind text NOT NULL, customer_id text NOT NULL DEFAULT '', amount numeric NOT NULL, currency text NOT NULL,
		reason text NOT NULL DEFAULT '', tx_key text NOT NULL, tx_ref text NOT NULL, account text NOT NULL, booking_date date,
		rule text NOT NULL, lettered_at timestamptz NOT NULL, written_at timestamptz NOT NULL DEFAULT now(), reverses_key text,
		unletter_reason text, UNIQUE (decision_key, seq));
		INSERT INTO lettrage_postings (decision_key, seq, kind, customer_id, amount, currency, tx_key, tx_ref, account, rule, lettered_at)
		VALUES ('k-old', 1, 'on_account', '2', 20, 'EUR', 'tx-9', 'REF-tx-9', 'FR76', 'manual:on_account', now());`); err != nil {
		t.Fatal(err)
	}
	cfg := Config{DSN: dsn, OpenItemsQuery: openItemsQuery, ApplyStatement: applyStatement}
	for i := 0; i < 2; i++ { // the second New finds everything in place
		c, err := New(ctx, cfg)
		if err != nil {
			t.Fatalf("New %d: %v", i, err)
		}
		c.Close()
	}
	c, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Unletter(ctx, connectors.Reversal{Key: "u-old", Reverses: "k-old", Reason: "x"}); err != nil {
		t.Fatalf("Unletter(old row): %v", err)
	}
	d := decision("k-disc", "tx-1", alloc("12", "98.00", ""))
	d.Decision.Postings = []domain.Posting{{Kind: domain.CashDiscountPosting, CustomerID: "1", ItemID: "12",
		Amount: domain.MustAmount("2.00"), Account: "665", Reason: "ESCOMPTE"}}
	if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
		t.Fatal(err)
	}
	if got := count(t, dsn, `SELECT string_agg(decision_key || ':' || kind || ':' || item_id || ':' || ledger_account, ' ' ORDER BY decision_key)
		FROM lettrage_postings`); got != "k-disc:cash_discount:12:665 k-old:on_account:: u-old:on_account::" {
		t.Errorf("postings = %q", got)
	}
}
