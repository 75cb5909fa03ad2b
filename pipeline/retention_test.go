package pipeline

import (
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/state"
)

// TestCompactionKeepsIdentityAndAudit: three payments delivered and
// lettered, the settled history compacted past the retention, then the
// same file delivered again under another name and a copy the bank
// re-sent (another message id, so another hash): nothing is lettered
// twice, nothing is an exception, and each letter's audit trail stays.
func TestCompactionKeepsIdentityAndAudit(t *testing.T) {
	forEachStore(t, testCompaction)
}

func testCompaction(t *testing.T, open func() (*state.Store, error)) {
	ctx := context.Background()
	stmts, out, store, src := passFolder(t, open)
	led := newPostingLedger(idItems()...)
	t0 := time.Date(2026, 11, 18, 9, 0, 0, 0, time.UTC)
	clock := t0
	job := &Job{Name: "cmp", Source: src, Ledger: led, Store: store, Matching: matcher.DefaultConfig(),
		Parse: camt.DefaultOptions(), ReportDir: out, Metrics: NewMetrics("test"), ConfigHash: "cfg-1",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return clock },
		RetentionDays: 30} // raised to MinRetentionDays
	doc := stmt053("MSG-1", "2026-11-17", credit("2026-11-17", "BK-1", idPay("ALPHA SA", "100.00", rf("1001"))),
		credit("2026-11-17", "BK-2", idPay("BRAVO SARL", "200.00", rf("1002"))),
		credit("2026-11-17", "BK-3", idPay("CHARLIE GMBH", "300.00", rf("1003"))))
	body := doc.XML()
	deliver := func(name string, b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(stmts, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pass := func(step string) {
		t.Helper()
		if _, err := job.Run(ctx); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if len(led.applied) != 3 || led.writes != 3 {
			t.Errorf("%s: %d letters in the ledger (%d writes), want the three payments lettered once", step, len(led.applied), led.writes)
		}
		f, err := os.Open(filepath.Join(out, "exceptions.csv"))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(rows) != 1 {
			t.Errorf("%s: exceptions.csv has %d rows (%v), want the header alone:\n%v", step, len(rows), err, rows)
		}
	}
	compacted := func() (n int) {
		t.Helper()
		if err := sqlOf(store).QueryRowContext(ctx, `SELECT COUNT(*) FROM transactions WHERE job = ? AND compacted_at <> ''`, "cmp").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deliver("stmt-2026-11-17.xml", body)
	pass("first delivery")

	// Inside the retention (which is at least MinRetentionDays): nothing.
	clock = t0.AddDate(0, 0, MinRetentionDays-1)
	pass("before the retention")
	if n := compacted(); n != 0 {
		t.Fatalf("%d transactions compacted inside the retention", n)
	}
	clock = t0.AddDate(0, 0, MinRetentionDays+1)
	pass("past the retention")
	if n := compacted(); n != 3 {
		t.Fatalf("%d transactions compacted past the retention, want 3", n)
	}
	// Once a day: a pass later the same day does not look again.
	if _, err := sqlOf(store).ExecContext(ctx, `UPDATE transactions SET compacted_at = '' WHERE job = ? AND ref LIKE ?`, "cmp", "BK-1%"); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Hour)
	pass("later the same day")
	if n := compacted(); n != 2 {
		t.Errorf("%d transactions compacted after a second pass the same day, want 2 (compaction once a day)", n)
	}
	clock = clock.AddDate(0, 0, 1)
	pass("the next day")
	if n := compacted(); n != 3 {
		t.Errorf("%d transactions compacted the next day, want 3", n)
	}
	// The payer's details went; identity and the audit trail stayed.
	// The reference and amount are the row's columns (its JSON leaves
	// them out, schema 13); the JSON keeps the origin.
	var data, ref, amount, items, rule, cfg, actor, decided, applied string
	var conf float64
	if err := sqlOf(store).QueryRowContext(ctx, `SELECT t.data, t.ref, t.amount, d.items, d.rule, d.confidence, d.config_hash, d.actor, d.decided_at, COALESCE(o.at, d.applied_at)
		FROM transactions t JOIN decisions d ON d.job = t.job AND d.tx_key = t.key LEFT JOIN outbox o ON o.job = d.job AND o.key = d.key
		WHERE t.job = ? AND t.ref LIKE ?`, "cmp", "BK-2%").
		Scan(&data, &ref, &amount, &items, &rule, &conf, &cfg, &actor, &decided, &applied); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(data, "BRAVO") || !strings.HasPrefix(ref, "BK-2") || !strings.HasPrefix(amount, "200") || !strings.Contains(data, `"bank_ref":"BK-2"`) {
		t.Errorf("compacted transaction = %s (%s, %s), want its identity without the payer", data, ref, amount)
	}
	if !strings.Contains(items, `"document_number":"FA-OI-1002"`) || strings.Contains(items, "payment_reference") {
		t.Errorf("compacted items = %s, want the item's number and customer only", items)
	}
	if rule == "" || conf <= 0 || cfg != "cfg-1" || actor != "lettrage" || decided == "" || applied == "" {
		t.Errorf("audit trail after compaction: rule %q confidence %v config %q actor %q decided %q applied %q",
			rule, conf, cfg, actor, decided, applied)
	}
	var key string
	if err := sqlOf(store).QueryRowContext(ctx, `SELECT key FROM transactions WHERE job = ? AND ref LIKE ?`, "cmp", "BK-2%").Scan(&key); err != nil {
		t.Fatal(err)
	}
	if chain, _, err := store.Letters(ctx, "cmp", key); err != nil || len(chain) != 1 || len(chain[0].Decision.Allocations) != 1 ||
		chain[0].Decision.Allocations[0].ItemID != "OI-1002" || chain[0].Items["OI-1002"].CustomerID != "C2" {
		t.Errorf("letters after compaction = %+v, %v; want the letter of OI-1002", chain, err)
	}

	// The same bytes under another name, and the bank's re-sent copy.
	deliver("copy-of-stmt.xml", body)
	deliver("resent.xml", []byte(strings.Replace(string(body), "<MsgId>", "<MsgId>RESENT-", 1)))
	pass("delivered again after compaction")
}
