package postgres

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/internal/failpoint"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/testenv"
)

// creditsSchema is the ERP side of postings: a table of customer credits
// and write-offs, refusing empty reasons for write-offs, and a switch that
// makes the statement fail for a reason that is not the data's (58000).
const creditsSchema = `
CREATE TABLE credits (decision text, seq int, kind text, customer int, amount numeric(14,3), reason text);
CREATE TABLE fail_switch (on_ bool);
INSERT INTO fail_switch VALUES (false);
CREATE FUNCTION check_post(kind text, reason text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF (SELECT on_ FROM fail_switch) THEN RAISE EXCEPTION 'disk on fire' USING ERRCODE = '58000'; END IF;
	IF kind = 'write_off' AND reason = '' THEN RAISE EXCEPTION 'a write-off needs a reason code'; END IF;
END $$;
`

const postStatement = `WITH c AS (SELECT check_post(@kind, @reason))
	INSERT INTO credits SELECT @decision_key, @seq::int, @kind, nullif(@customer_id, '')::int, @amount::numeric, @reason FROM c`

const unpostStatement = `INSERT INTO credits VALUES (@decision_key, @seq::int, @kind, nullif(@customer_id, '')::int,
	-@amount::numeric, @reverses_key || ': ' || @unletter_reason)`

func withPosting(cfg *Config) {
	cfg.PostStatement = postStatement
	cfg.UnpostStatement = unpostStatement
	cfg.UnapplyStatement = unapplyStatement
}

func newPostingLedger(t *testing.T, mut func(*Config)) (*Client, string) {
	t.Helper()
	c, dsn := newLedger(t, func(cfg *Config) {
		withPosting(cfg)
		if mut != nil {
			mut(cfg)
		}
	})
	if _, err := cluster.Exec(dsn, creditsSchema); err != nil {
		t.Fatal(err)
	}
	return c, dsn
}

func posting(kind domain.PostingKind, customer, amount, reason string) domain.Posting {
	return domain.Posting{Kind: kind, CustomerID: customer, Amount: domain.MustAmount(amount), Reason: reason}
}

func withPostings(d connectors.KeyedDecision, ps ...domain.Posting) connectors.KeyedDecision {
	d.Decision.Postings = ps
	d.Decision.Rule = "manual:" + string(ps[0].Kind)
	return d
}

const postingsRows = `SELECT coalesce(string_agg(decision_key || ':' || seq || ':' || kind || ':' || customer_id || ':' || amount || ':' ||
	currency || ':' || reason || ':' || rule || ':' || coalesce(reverses_key, '-') || ':' || coalesce(unletter_reason, '-'), ' '
	ORDER BY decision_key, seq), '') FROM lettrage_postings`

const creditRows = `SELECT coalesce(string_agg(decision || ':' || seq || ':' || kind || ':' || coalesce(customer::text, '-') || ':' ||
	amount || ':' || reason, ' ' ORDER BY decision, seq, amount), '') FROM credits`

func TestApplyPostingsExactlyOnce(t *testing.T) {
	ctx := context.Background()
	c, dsn := newPostingLedger(t, nil)
	batch := []connectors.KeyedDecision{
		withPostings(decision("k-acct", "tx-1"), posting(domain.OnAccount, "1", "70.00", "")),
		withPostings(decision("k-mixed", "tx-2", alloc("12", "100", "")), posting(domain.WriteOffPosting, "", "0.50", "BANK_FEE"),
			posting(domain.OnAccount, "2", "9.50", "advance")),
		decision("k-plain", "tx-3", alloc("10", "1250.00", "")),
	}
	for i := 0; i < 2; i++ {
		if err := c.Apply(ctx, batch); err != nil {
			t.Fatalf("Apply %d: %v", i, err)
		}
	}
	c2, err := New(ctx, c.cfg) // a restart
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.Apply(ctx, batch); err != nil {
		t.Fatalf("Apply after restart: %v", err)
	}
	if got := count(t, dsn, postingsRows); got != "k-acct:1:on_account:1:70.00:EUR::manual:on_account:-:- "+
		"k-mixed:1:write_off::0.50:EUR:BANK_FEE:manual:write_off:-:- k-mixed:2:on_account:2:9.50:EUR:advance:manual:write_off:-:-" {
		t.Errorf("postings table = %q", got)
	}
	if got := count(t, dsn, creditRows); got != "k-acct:1:on_account:1:70.000: k-mixed:1:write_off:-:0.500:BANK_FEE k-mixed:2:on_account:2:9.500:advance" {
		t.Errorf("credits = %q: post_statement must run once per posting", got)
	}
	if got := residuals(t, dsn); got != "10=0.000 11=99.995 12=200.100 13=0.000" {
		t.Errorf("residuals = %q", got)
	}
	got, err := c2.Applied(ctx, []string{"k-acct", "k-mixed", "k-plain", "k-none"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got["k-acct"] {
		t.Errorf("Applied = %v, want the three decisions (k-acct has postings only)", got)
	}
	empty := decision("k-empty", "tx-4")
	if err := c.Apply(ctx, []connectors.KeyedDecision{empty}); !errors.Is(err, ErrNotAuto) {
		t.Errorf("Apply(no allocation, no posting) = %v, want ErrNotAuto", err)
	}
}

// Without post_statement the postings table is the write-back.
func TestPostingsTableIsTheWriteBack(t *testing.T) {
	ctx := context.Background()
	c, dsn := newLedger(t, func(cfg *Config) { cfg.ApplyStatement = ""; cfg.PostingsTable = "public.my_postings" })
	d := withPostings(decision("k1", "tx-1"), posting(domain.WriteOffPosting, "", "0.01", "ROUNDING"))
	for i := 0; i < 2; i++ {
		if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
			t.Fatal(err)
		}
	}
	if got := count(t, dsn, `SELECT count(*) || ':' || sum(amount) FROM my_postings`); got != "1:0.01" {
		t.Errorf("my_postings = %q", got)
	}
	if err := c.Unletter(ctx, reversal("u1", "k1", d)); err != nil {
		t.Fatal(err)
	}
	if got := count(t, dsn, `SELECT count(*) || ':' || sum(amount) FROM my_postings`); got != "2:0.00" {
		t.Errorf("my_postings after the reversal = %q", got)
	}
}

// A decision whose postings cannot be written, or that the database refuses,
// is rejected alone — allocations included — and the others are committed.
func TestApplyPostingRejections(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		d      connectors.KeyedDecision
		reason string
		errIs  error
	}{
		{name: "on account without customer", d: withPostings(decision("k-bad", "tx-2", alloc("12", "100", "")),
			posting(domain.OnAccount, "", "5", "")), reason: "needs the customer", errIs: ErrBadPosting},
		{name: "unknown kind", d: withPostings(decision("k-bad", "tx-2", alloc("12", "100", "")),
			posting("refund", "1", "5", "")), reason: `unknown posting kind "refund"`, errIs: ErrBadPosting},
		{name: "post_statement refuses", d: withPostings(decision("k-bad", "tx-2", alloc("12", "100", "")),
			posting(domain.WriteOffPosting, "", "5", "")), reason: "a write-off needs a reason code"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, dsn := newPostingLedger(t, nil)
			ok := withPostings(decision("k-ok", "tx-1", alloc("10", "1250.00", "")), posting(domain.OnAccount, "1", "3", ""))
			err := c.Apply(ctx, []connectors.KeyedDecision{tc.d, ok})
			rej, only := connectors.Rejections(err)
			if !only || len(rej) != 1 || rej[0].Key != "k-bad" || !strings.Contains(rej[0].Reason, tc.reason) {
				t.Fatalf("Apply = %v; want only k-bad rejected with %q", err, tc.reason)
			}
			if tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Errorf("Apply = %v, want errors.Is %v", err, tc.errIs)
			}
			if got := residuals(t, dsn); got != "10=0.000 11=99.995 12=300.100 13=0.000" {
				t.Errorf("residuals = %q: k-bad's allocation must not be written", got)
			}
			if got := count(t, dsn, `SELECT string_agg(DISTINCT decision_key, ' ') FROM lettrage_postings`); got != "k-ok" {
				t.Errorf("postings of %q written", got)
			}
			if got, err := c.Applied(ctx, []string{"k-ok", "k-bad"}); err != nil || len(got) != 1 || !got["k-ok"] {
				t.Errorf("Applied = %v, %v", got, err)
			}
		})
	}
}

// A failure that is not the data's fault while posting rolls the whole
// batch back; once it is gone, re-applying writes every row exactly once.
func TestApplyPostingsAtomic(t *testing.T) {
	ctx := context.Background()
	c, dsn := newPostingLedger(t, nil)
	batch := []connectors.KeyedDecision{
		decision("k-plain", "tx-1", alloc("10", "1250.00", "")),
		withPostings(decision("k-mixed", "tx-2", alloc("12", "100", "")), posting(domain.OnAccount, "2", "5", "")),
	}
	if _, err := cluster.Exec(dsn, `UPDATE fail_switch SET on_ = true`); err != nil {
		t.Fatal(err)
	}
	err := c.Apply(ctx, batch)
	if rej, _ := connectors.Rejections(err); err == nil || len(rej) != 0 || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Apply = %v; want a plain error", err)
	}
	if got := count(t, dsn, `SELECT (SELECT count(*) FROM lettrage_allocations) + (SELECT count(*) FROM lettrage_postings) + (SELECT count(*) FROM credits)`); got != "0" {
		t.Fatalf("%s rows left behind by a failed batch", got)
	}
	if _, err := cluster.Exec(dsn, `UPDATE fail_switch SET on_ = false`); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := c.Apply(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if got := count(t, dsn, creditRows); got != "k-mixed:1:on_account:2:5.000:" {
		t.Errorf("credits = %q", got)
	}
	if got := residuals(t, dsn); got != "10=0.000 11=99.995 12=200.100 13=0.000" {
		t.Errorf("residuals = %q", got)
	}
}

// crashDSNEnv hands the database to the child process of TestPostingCrash.
const crashDSNEnv = "LETTRAGE_TEST_CRASH_DSN"

func crashBatch() []connectors.KeyedDecision {
	return []connectors.KeyedDecision{
		withPostings(decision("k-mixed", "tx-2", alloc("12", "100", "")), posting(domain.OnAccount, "2", "5", ""),
			posting(domain.WriteOffPosting, "", "0.10", "FEE")),
		withPostings(decision("k-acct", "tx-3"), posting(domain.OnAccount, "1", "40", "")),
	}
}

// TestPostingCrash kills a process (SIGKILL, the failpoint) after the batch
// is written and before it is committed: nothing of it is applied, and a
// restarted ledger writes every posting exactly once.
func TestPostingCrash(t *testing.T) {
	if dsn := os.Getenv(crashDSNEnv); dsn != "" { // the child
		c, err := New(context.Background(), Config{DSN: dsn, OpenItemsQuery: openItemsQuery, ApplyStatement: applyStatement,
			PostStatement: postStatement})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Apply(context.Background(), crashBatch())
		t.Fatalf("Apply returned (%v): the failpoint did not kill the process", err)
	}
	if !failpoint.Enabled {
		testenv.Missing(t, "the failpoint build tag", errors.New("run go test -tags failpoint (make test does)"))
	}
	ctx := context.Background()
	c, dsn := newPostingLedger(t, nil)
	cmd := exec.Command(os.Args[0], "-test.run=^TestPostingCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDSNEnv+"="+dsn, failpoint.Env+"="+FailBeforeCommit)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != -1 { // -1: killed by a signal
		t.Fatalf("child: %v\n%s", err, out)
	}
	if got, err := c.Applied(ctx, []string{"k-mixed", "k-acct"}); err != nil || len(got) != 0 {
		t.Fatalf("Applied after the crash = %v, %v; want nothing", got, err)
	}
	for i := 0; i < 2; i++ {
		if err := c.Apply(ctx, crashBatch()); err != nil {
			t.Fatal(err)
		}
	}
	if got := count(t, dsn, creditRows); got != "k-acct:1:on_account:1:40.000: k-mixed:1:on_account:2:5.000: k-mixed:2:write_off:-:0.100:FEE" {
		t.Errorf("credits = %q", got)
	}
	if got := count(t, dsn, `SELECT count(*) FROM lettrage_postings`); got != "3" {
		t.Errorf("%s postings, want 3", got)
	}
}

func TestUnletterPostings(t *testing.T) {
	ctx := context.Background()
	c, dsn := newPostingLedger(t, nil)
	mixed := withPostings(decision("k-mixed", "tx-2", alloc("12", "100", "")), posting(domain.OnAccount, "2", "20", "advance"))
	acct := withPostings(decision("k-acct", "tx-3"), posting(domain.WriteOffPosting, "", "0.30", "ROUNDING"))
	if err := c.Apply(ctx, []connectors.KeyedDecision{mixed, acct}); err != nil {
		t.Fatal(err)
	}
	rev := reversal("u-mixed", "k-mixed", mixed)
	rev.Postings = mixed.Decision.Postings
	for i := 0; i < 2; i++ { // the second time is a no-op
		if err := c.Unletter(ctx, rev); err != nil {
			t.Fatalf("Unletter %d: %v", i, err)
		}
	}
	// A postings-only decision is reversed too, even when the reversal does
	// not list its postings: the table says what was written.
	if err := c.Unletter(ctx, connectors.Reversal{Key: "u-acct", Reverses: "k-acct", Tx: acct.Tx, Reason: "found the payer"}); err != nil {
		t.Fatal(err)
	}
	if got := residuals(t, dsn); got != "10=1250.000 11=99.995 12=300.100 13=0.000" {
		t.Errorf("residuals = %q, want 12 whole again", got)
	}
	if got := count(t, dsn, creditRows); got != "k-acct:1:write_off:-:0.300:ROUNDING k-mixed:1:on_account:2:20.000:advance "+
		"u-acct:1:write_off:-:-0.300:k-acct: found the payer u-mixed:1:on_account:2:-20.000:k-mixed: wrong invoice\nticket 12" {
		t.Errorf("credits = %q", got)
	}
	if got := count(t, dsn, postingsRows+` WHERE reverses_key IS NOT NULL`); got != "u-acct:1:write_off::-0.30:EUR:ROUNDING:unletter:k-acct:found the payer "+
		"u-mixed:1:on_account:2:-20:EUR:advance:unletter:k-mixed:wrong invoice\nticket 12" {
		t.Errorf("reversal rows = %q", got)
	}
	got, err := c.Applied(ctx, []string{"u-mixed", "u-acct"})
	if err != nil || len(got) != 2 {
		t.Errorf("Applied = %v, %v", got, err)
	}
	for _, tc := range []struct {
		rev   connectors.Reversal
		errIs error
	}{
		{connectors.Reversal{Key: "u-other", Reverses: "k-acct"}, ErrAlreadyReversed},
		{connectors.Reversal{Key: "u-x", Reverses: "u-acct"}, ErrNotLettered},
		{connectors.Reversal{Key: "u-acct", Reverses: "k-mixed"}, ErrKeyInUse},
	} {
		if err := c.Unletter(ctx, tc.rev); !errors.Is(err, tc.errIs) {
			t.Errorf("Unletter(%s of %s) = %v, want %v", tc.rev.Key, tc.rev.Reverses, err, tc.errIs)
		}
	}
}

// An unpost_statement that refuses rolls the whole reversal back,
// allocations included.
func TestUnletterPostingRefused(t *testing.T) {
	ctx := context.Background()
	c, dsn := newPostingLedger(t, func(cfg *Config) {
		cfg.UnpostStatement = `DO $$ BEGIN RAISE EXCEPTION 'credit already used'; END $$`
	})
	d := withPostings(decision("k1", "tx-1", alloc("12", "100", "")), posting(domain.OnAccount, "2", "20", ""))
	if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
		t.Fatal(err)
	}
	err := c.Unletter(ctx, reversal("u1", "k1", d))
	var re *connectors.RejectedError
	if !errors.As(err, &re) || !strings.Contains(re.Reason, "credit already used") {
		t.Fatalf("Unletter = %v, want a rejection with the database's message", err)
	}
	if got := residuals(t, dsn); got != "10=1250.000 11=99.995 12=200.100 13=0.000" {
		t.Errorf("residuals = %q: the reversal must leave nothing behind", got)
	}
	if got, err := c.Applied(ctx, []string{"u1"}); err != nil || len(got) != 0 {
		t.Errorf("Applied = %v, %v", got, err)
	}
}

// Concurrent reversals of a postings-only decision queue on its rows.
func TestUnletterPostingsConcurrently(t *testing.T) {
	ctx := context.Background()
	c, dsn := newPostingLedger(t, nil)
	d := withPostings(decision("k1", "tx-1"), posting(domain.OnAccount, "1", "70", ""))
	if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
		t.Fatal(err)
	}
	ok, rejected := unletterRace(t, c, d)
	if len(ok) != 1 || rejected != 2 {
		t.Errorf("succeeded %v, rejected %d", ok, rejected)
	}
	if got := count(t, dsn, `SELECT sum(amount) FROM credits`); got != "0.000" {
		t.Errorf("credits sum = %s, want 0.000: reversed once", got)
	}
}

func TestValidatePostings(t *testing.T) {
	base := Config{DSN: "x", OpenItemsQuery: "q"}
	tests := []struct {
		name        string
		mut         func(*Config)
		errContains string
	}{
		{"schema-qualified", func(c *Config) { c.PostingsTable = "erp.posts" }, ""},
		{"bad name", func(c *Config) { c.PostingsTable = "posts; DROP TABLE x" }, "postings_table:"},
		{"the default allocations table", func(c *Config) { c.PostingsTable = DefaultAllocationsTable }, "postings_table:"},
		{"the allocations table", func(c *Config) { c.AllocationsTable, c.PostingsTable = "a.b", "A.B" }, "already the allocations"},
		{"the exceptions table", func(c *Config) { c.ExceptionsTable = DefaultPostingsTable }, "already the allocations or exceptions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.mut(&cfg)
			err := cfg.Validate()
			if tc.errContains == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errContains) {
				t.Fatalf("Validate = %v, want %q", err, tc.errContains)
			}
		})
	}
}
