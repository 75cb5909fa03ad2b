package state

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// bulkCommit is a commit of n new transactions of every kind the commit
// writes differently: lettered (pending in the outbox), unmatched, batch
// entries with their links (two batch entries share a link), and a
// transaction updated in the same commit after its insert (a second
// decision on it).
func bulkCommit(n int, at time.Time) Commit {
	c := Commit{Job: "j", ConfigHash: "cfg", At: at,
		Files: []FileRecord{{Hash: "hb", Source: "s", Path: "b.xml", Status: "processed", Transactions: n}}}
	for i := range n {
		tx := testTx(fmt.Sprintf("B%05d", i), fmt.Sprintf("%d.%02d", 10+i, i%100))
		d := decide.DecisionRecord{Key: decide.DecisionKey("j", tx.Key, 0), FileHash: "hb", New: true}
		switch i % 4 {
		case 0:
			d.Decision = domain.Decision{TxKey: tx.Key, Outcome: domain.Auto, Rule: "reference", Confidence: 0.99,
				Allocations: []domain.Allocation{{ItemID: fmt.Sprintf("OI%d", i), Amount: tx.Amount}}}
			d.Items = map[string]domain.OpenItem{fmt.Sprintf("OI%d", i): {ID: fmt.Sprintf("OI%d", i)}}
		case 1:
			tx.Origin = &domain.Origin{Batch: 3, Links: []string{"MSG-" + tx.Ref, fmt.Sprintf("SHARED-%d", i%3)}}
			d.Decision = domain.Decision{TxKey: tx.Key, Outcome: domain.Unmatched, Reason: "awaiting_details"}
		default:
			d.Decision = domain.Decision{TxKey: tx.Key, Outcome: domain.Unmatched, Reason: "no_candidate", Explanation: tx.Ref}
		}
		d.Tx = &tx
		c.Decisions = append(c.Decisions, d)
	}
	// The last transaction decided again in the same commit: its row is
	// updated after its insert and shows the second decision.
	last := c.Decisions[n-1]
	c.Decisions = append(c.Decisions, decide.DecisionRecord{Key: decide.DecisionKey("j", last.Tx.Key, 1), Tx: last.Tx, FileHash: "hb",
		Decision: domain.Decision{TxKey: last.Tx.Key, Outcome: domain.Ignored, Reason: "again", Explanation: "decided again"}})
	return c
}

// dump is every row of the tables a commit writes, in key order, and the
// schema (sqlite_master but its root pages, each table's indexes in the
// order they were made: the planner's choice between equal indexes
// depends on it).
func dump(t *testing.T, s *Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, q := range map[string]string{
		"transactions": `SELECT * FROM transactions ORDER BY job, key`,
		"decisions":    `SELECT * FROM decisions ORDER BY job, key`,
		"tx_links":     `SELECT * FROM tx_links ORDER BY job, link, tx_key`,
		"schema":       `SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master ORDER BY tbl_name, rowid`,
	} {
		rows, err := collect(t.Context(), s.onDB(), q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var b strings.Builder
		for _, r := range rows {
			b.WriteString(strings.Join(r, "|") + "\n")
		}
		out[name] = b.String()
	}
	return out
}

// rootPages are the root pages of the index a bulk commit builds again and
// of decisions_tx, which it leaves.
func rootPages(t *testing.T, s *Store) string {
	t.Helper()
	var got string
	if err := s.onDB().QueryRowContext(t.Context(), `SELECT group_concat(name || '=' || rootpage, ',') FROM
		(SELECT name, rootpage FROM sqlite_master WHERE name IN ('decisions_tx', 'transactions_ident') ORDER BY name)`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestBulkCommitKeepsStateAndSchema: a commit that builds the random-order
// index again (bulkMinRows lowered) leaves the very rows and schema a
// commit inserting into them leaves, and the indexes are in place and
// used; a commit of fewer new transactions than the store holds does not
// rebuild them, and a commit that fails leaves them as they were.
func TestBulkCommitKeepsStateAndSchema(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	keep := bulkMinRows
	t.Cleanup(func() { bulkMinRows = keep })

	bulkMinRows = 1 << 30 // never: rows inserted into the indexes
	plain := openSQLiteTemp(t)
	if err := plain.SaveCommit(ctx, bulkCommit(40, at)); err != nil {
		t.Fatal(err)
	}

	bulkMinRows = 10
	bulk := openSQLiteTemp(t)
	before := dump(t, bulk)["schema"]
	roots := rootPages(t, bulk)
	if err := bulk.SaveCommit(ctx, bulkCommit(40, at)); err != nil {
		t.Fatal(err)
	}
	if rootPages(t, bulk) == roots {
		t.Fatalf("the indexes were not built again (root pages %s)", roots)
	}
	want, got := dump(t, plain), dump(t, bulk)
	if got["schema"] != before {
		t.Errorf("schema after a bulk commit:\n%s\nwant as before:\n%s", got["schema"], before)
	}
	for name := range want {
		if got[name] != want[name] {
			t.Errorf("%s after a bulk commit:\n%s\nwant as after a plain one:\n%s", name, got[name], want[name])
		}
	}
	if n := strings.Count(got["tx_links"], "\n"); n != 20 {
		t.Errorf("%d links recorded, want 20 (10 batch entries, 2 links each)", n)
	}
	var plan string
	rows, err := collect(ctx, bulk.onDB(), `EXPLAIN QUERY PLAN SELECT key FROM decisions WHERE job = 'j' AND tx_key = 'x'`)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		plan += r[len(r)-1]
	}
	if !strings.Contains(plan, "decisions_tx") {
		t.Errorf("the decisions of a transaction are not found through decisions_tx after a bulk commit: %s", plan)
	}
	plan = ""
	if rows, err = collect(ctx, bulk.onDB(), `EXPLAIN QUERY PLAN SELECT key FROM transactions WHERE job = 'j' AND exception = 1`); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		plan += r[len(r)-1]
	}
	if !strings.Contains(plan, "transactions_exception") {
		t.Errorf("the exceptions are not read through transactions_exception after a bulk commit: %s", plan)
	}
	var ok string
	if err := bulk.onDB().QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("integrity_check = %q, %v", ok, err)
	}

	// Fewer new transactions than held: inserted into the indexes.
	roots = rootPages(t, bulk)
	small := bulkCommit(12, at.Add(time.Hour))
	for i := range small.Decisions {
		small.Decisions[i].Tx.Key += "-2"
		small.Decisions[i].Decision.TxKey = small.Decisions[i].Tx.Key
		small.Decisions[i].Key = decide.DecisionKey("j", small.Decisions[i].Tx.Key, i)
	}
	small.Files[0].Hash = "hb2"
	if err := bulk.SaveCommit(ctx, small); err != nil {
		t.Fatal(err)
	}
	if r := rootPages(t, bulk); r != roots {
		t.Errorf("a commit of 12 new transactions into a store of 40 rebuilt the indexes (%s, was %s)", r, roots)
	}

	// A bulk commit that fails (a transaction already recorded) rolls
	// the dropped indexes back with the rest.
	failing := openSQLiteTemp(t)
	first := bulkCommit(40, at)
	if err := failing.SaveCommit(ctx, Commit{Job: "j", At: at, Decisions: first.Decisions[:1]}); err != nil {
		t.Fatal(err)
	}
	schema, roots := dump(t, failing)["schema"], rootPages(t, failing)
	if err := failing.SaveCommit(ctx, first); err == nil {
		t.Fatal("a commit recording a recorded transaction as new succeeded")
	}
	if got := dump(t, failing)["schema"]; got != schema || rootPages(t, failing) != roots {
		t.Errorf("after a failed bulk commit the schema is\n%s\nwant\n%s", got, schema)
	}
}

// TestCommitWritesInKeyOrder: a SQLite commit inserts transactions and
// their decisions in the order of the transaction key, so that both
// tables' rowids follow it in step (the b-trees filled left to right; the
// exceptions read with their decisions and MarkApplied walk the tables in
// order).
func TestCommitWritesInKeyOrder(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := bulkCommit(30, time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	slices.Reverse(c.Decisions[:30])
	if err := s.SaveCommit(ctx, c); err != nil {
		t.Fatal(err)
	}
	for table, key := range map[string]string{"transactions": "key", "decisions": "tx_key"} {
		rows, err := collect(ctx, s.onDB(), `SELECT `+key+` FROM `+table+` ORDER BY rowid`)
		if err != nil {
			t.Fatal(err)
		}
		keys := make([]string, len(rows))
		for i, r := range rows {
			keys[i] = r[0]
		}
		if !slices.IsSorted(keys) {
			t.Errorf("%s inserted out of key order: %v", table, keys)
		}
	}
	st, _, err := s.Transaction(ctx, "j", c.Decisions[30].Tx.Key)
	if err != nil || st.Decision.Explanation != "decided again" {
		t.Errorf("the transaction decided twice shows %q (%v), want the second decision", st.Decision.Explanation, err)
	}
}

// BenchmarkSaveCommit is a first pass's commit on its own: 20,000 new
// transactions of bulkCommit's kinds into an empty SQLite store
// (docs/BENCHMARKS.md, "Round six: the commit's statements and encoding").
func BenchmarkSaveCommit(b *testing.B) {
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	c := bulkCommit(20000, at)
	for b.Loop() {
		b.StopTimer()
		s, err := OpenSQLite(filepath.Join(b.TempDir(), "state.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := s.SaveCommit(context.Background(), c); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}

// TestRowsWrittenBehind: on SQLite a commit's batches are written by a
// goroutine of their own while the next are encoded (rowBatch.behind).
// A batch that fails there — a transaction already recorded, in the
// first of several batches — still fails the commit, with the table
// named, and nothing of the commit stays; a commit that succeeds holds
// every row, as the batches written in turn did.
func TestRowsWrittenBehind(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	n := 5*batchRows + 7
	whole := bulkCommit(n, at)

	s := openSQLiteTemp(t)
	if err := s.SaveCommit(ctx, Commit{Job: "j", At: at, Decisions: whole.Decisions[:1]}); err != nil {
		t.Fatal(err)
	}
	before := dump(t, s)
	err := s.SaveCommit(ctx, whole)
	if err == nil || !strings.Contains(err.Error(), "writing transactions") || !strings.Contains(err.Error(), "already recorded") {
		t.Fatalf("a commit recording a recorded transaction as new (first batch of %d rows) = %v, want it refused, naming the transactions", n, err)
	}
	if after := dump(t, s); !maps.Equal(after, before) {
		t.Errorf("a failed commit left rows behind:\n%v\nwant\n%v", after, before)
	}

	// The same commit into an empty store holds every row.
	ok := openSQLiteTemp(t)
	if err := ok.SaveCommit(ctx, whole); err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]int{"transactions": n, "decisions": n + 1} {
		var got int
		if err := ok.onDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: %d rows after a commit of %d written behind, want %d", table, got, n, want)
		}
	}
}

// TestExecBehindFailureSticks: a statement run behind that fails is
// returned by the transaction's next call, and by every call after it.
func TestExecBehindFailureSticks(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	pq := s.prepared(tx)
	defer pq.Close()
	if err := pq.execBehind(ctx, `INSERT INTO files (job) VALUES (?)`, "files", []any{"j"}, nil); err != nil {
		t.Fatalf("execBehind = %v, want the failure later", err)
	}
	_, err = pq.ExecContext(ctx, `SELECT 1`)
	if err == nil || !strings.Contains(err.Error(), "writing files") {
		t.Fatalf("the call after a failed statement run behind = %v, want its failure", err)
	}
	if _, again := pq.QueryContext(ctx, `SELECT 1`); again == nil || again.Error() != err.Error() {
		t.Errorf("a later call = %v, want the same failure %v", again, err)
	}
}

// openSQLiteTemp is a new SQLite store in the test's temporary directory,
// closed when the test ends.
func openSQLiteTemp(t *testing.T) *Store {
	s, err := OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
