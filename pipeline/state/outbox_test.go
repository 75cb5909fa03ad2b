package state

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/pipeline/decide"
)

// undoOutbox takes a store back to schema 11 (the test of a migration
// before 12 that runs it again): the outbox's states back into
// decisions, the outbox dropped, decisions_pending made again.
func undoOutbox(ctx context.Context, t *testing.T, s *Store) {
	t.Helper()
	for _, q := range []string{
		`UPDATE decisions SET state = (SELECT o.state FROM outbox o WHERE o.job = decisions.job AND o.key = decisions.key),
			applied_at = (SELECT o.at FROM outbox o WHERE o.job = decisions.job AND o.key = decisions.key)
			WHERE EXISTS (SELECT 1 FROM outbox o WHERE o.job = decisions.job AND o.key = decisions.key)`,
		`DROP TABLE outbox`,
		`CREATE INDEX decisions_pending ON decisions (job) WHERE state = 'pending'`,
		`DELETE FROM schema_migrations WHERE version >= 12`,
	} {
		if _, err := s.onDB().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestMigrationToOutbox: a store written at schema 11 holding pending,
// applied, refused and of-record decisions (letters, a reversal) is
// migrated to 12: the pending ones move to the outbox, and every
// decision's state and when it was set read the same through the store
// (DecisionState, History, Pending, LastRejected, the letters) as they
// were in decisions; the pending ones are found by outbox_pending
// (SQLite's plan); MarkApplied then moves a pending one in the outbox
// alone, and MarkRejected the other in both.
func TestMigrationToOutbox(t *testing.T) {
	forEachRawStore(t, testMigrationToOutbox)
}

func testMigrationToOutbox(t *testing.T, raw func(ctx context.Context) (*Store, error), open func() (*Store, error)) {
	ctx := context.Background()
	old, err := raw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.migrateTo(ctx, 11); err != nil {
		t.Fatal(err)
	}
	at := "2026-11-18T09:00:00Z"
	txData := func(k string) string {
		return `{"key":"` + k + `","tx_ref":"R-` + k + `","amount":"10.00","currency":"EUR","credit":true}`
	}
	ltr := func(k string) string {
		return `{"tx_key":"` + k + `","outcome":"auto","rule":"R1","confidence":1,"allocations":[{"item_id":"OI-` + k + `","customer_id":"C1","amount":"10.00"}]}`
	}
	open1 := `{"tx_key":"k-open","outcome":"unmatched"}`
	for _, k := range []string{"k-pend", "k-app", "k-rej", "k-rev", "k-open"} {
		dec := ltr(k)
		if k == "k-open" {
			dec = open1
		}
		if _, err := old.onDB().ExecContext(ctx, `INSERT INTO transactions (job, key, ref, account, booking_date, currency, amount, state,
			file_hash, data, decision, exception, first_seen_at, updated_at, ident) VALUES ('j', ?, ?, 'A', '2026-11-17', 'EUR', '10.00', 'lettered', 'h', ?, ?, 0, ?, ?, 'c')`,
			k, "R-"+k, txData(k), dec, at, at); err != nil {
			t.Fatal(err)
		}
	}
	// key, tx, outcome, data, state, applied_at, reverses
	for _, r := range [][]any{
		{"d-pend", "k-pend", "auto", ltr("k-pend"), decide.DecPending, "", ""},
		{"d-app", "k-app", "auto", ltr("k-app"), decide.DecApplied, "2026-11-18T09:01:00Z", ""},
		{"d-rej", "k-rej", "auto", ltr("k-rej"), decide.DecRejected, "2026-11-18T09:02:00Z", ""},
		{"d-rev-of", "k-rev", "auto", ltr("k-rev"), decide.DecApplied, "2026-11-18T09:03:00Z", ""},
		{"d-rev", "k-rev", "auto", ltr("k-rev"), decide.DecPending, "", "d-rev-of"},
		{"d-open", "k-open", "unmatched", open1, decide.DecRecord, "", ""},
	} {
		if _, err := old.onDB().ExecContext(ctx, `INSERT INTO decisions (job, key, tx_key, outcome, rule, confidence, explanation, data, items,
			config_hash, decided_at, state, applied_at, reverses) VALUES ('j', ?, ?, ?, 'R1', 1, '', ?, '{}', 'cfg', ?, ?, ?, ?)`,
			r[0], r[1], r[2], r[3], at, r[4], r[5], r[6]); err != nil {
			t.Fatal(err)
		}
	}
	// The outbox as schema 11 held it.
	before, err := collect(ctx, old.onDB(), `SELECT key, state, applied_at FROM decisions WHERE job = 'j' ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()

	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	if err := s.onDB().QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil || v != SchemaVersion || v < 12 {
		t.Fatalf("schema version %d (%v), want %d", v, err, SchemaVersion)
	}
	view := func() [][]string {
		var out [][]string
		for _, k := range []string{"k-app", "k-open", "k-pend", "k-rej", "k-rev"} {
			h, ok, err := s.History(ctx, "j", k)
			if err != nil || !ok {
				t.Fatalf("history of %s: %v, %v", k, ok, err)
			}
			for _, e := range h.Decisions {
				state, found, err := s.DecisionState(ctx, "j", e.Key)
				if err != nil || !found || state != e.State {
					t.Fatalf("DecisionState(%s) = %q, %v, %v; history says %q", e.Key, state, found, err, e.State)
				}
				out = append(out, []string{e.Key, e.State, e.AppliedAt})
			}
		}
		return out
	}
	// Only the pending decisions moved (the others keep their state in
	// decisions, read the same).
	moved, err := collect(ctx, s.onDB(), `SELECT key, state, at FROM outbox WHERE job = 'j' ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"d-pend", "pending", ""}, {"d-rev", "pending", ""}}; !reflect.DeepEqual(moved, want) {
		t.Fatalf("outbox rows after the migration %v, want %v", moved, want)
	}
	after := view()
	slices.SortFunc(after, slices.Compare)
	if !reflect.DeepEqual(after, before) {
		t.Fatalf("outbox after the migration\n%v\nwant (schema 11)\n%v", after, before)
	}
	pend, err := s.Pending(ctx, "j")
	var pendKeys []string
	for _, p := range pend {
		pendKeys = append(pendKeys, p.Key)
	}
	slices.Sort(pendKeys)
	if err != nil || !slices.Equal(pendKeys, []string{"d-pend", "d-rev"}) {
		t.Fatalf("pending after the migration = %v, %v", pendKeys, err)
	}
	last, when, err := s.LastRejected(ctx, "j", "k-rej")
	if err != nil || last == nil || last.Rule != "R1" || !when.Equal(time.Date(2026, 11, 18, 9, 2, 0, 0, time.UTC)) {
		t.Fatalf("LastRejected after the migration = %+v, %v, %v", last, when, err)
	}
	letters, err := s.letters(ctx, s.onDB(), "j", "k-rev")
	if err != nil || len(letters) != 1 || letters[0].State != decide.DecApplied || letters[0].Reversal != decide.DecPending {
		t.Fatalf("letters of k-rev after the migration = %+v, %v", letters, err)
	}
	if s.Dialect() == SQLite {
		plan, err := collect(ctx, s.onDB(), `EXPLAIN QUERY PLAN SELECT key FROM outbox WHERE job = 'j' AND state = 'pending'`)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(fmt.Sprint(plan), "outbox_pending") {
			t.Errorf("the pending decisions' plan %v does not use outbox_pending", plan)
		}
	}
	// Applied: the outbox row moves, the decision row is left as written.
	if err := s.MarkApplied(ctx, "j", []string{"d-pend"}, time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := s.DecisionState(ctx, "j", "d-pend"); st != decide.DecApplied {
		t.Errorf("d-pend after MarkApplied: %q", st)
	}
	if err := s.MarkRejected(ctx, "j", []decide.Rejection{{Key: "d-rev", Reason: "closed period", Hold: true}},
		time.Date(2026, 11, 18, 10, 1, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := s.DecisionState(ctx, "j", "d-rev"); st != decide.DecRejected {
		t.Errorf("d-rev after MarkRejected: %q", st)
	}
	if p, err := s.Pending(ctx, "j"); err != nil || len(p) != 0 {
		t.Errorf("pending after MarkApplied and MarkRejected: %d, %v", len(p), err)
	}
	var stored string
	if err := s.onDB().QueryRowContext(ctx, `SELECT state FROM decisions WHERE job = 'j' AND key = 'd-pend'`).Scan(&stored); err != nil || stored != decide.DecPending {
		t.Errorf("d-pend's decision row after MarkApplied: state %q, %v (not rewritten: pending)", stored, err)
	}
}

// TestPendingReadsThePendingIndex: on SQLite the pending decisions are
// found through outbox_pending, not by walking the job's whole outbox
// (the planner, without statistics, took the primary key: 2.6 CPU s per
// pass at a million letters, none pending).
func TestPendingReadsThePendingIndex(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+s.pendingQuery(), "j")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(plan) == 0 || !strings.Contains(plan[0], "outbox_pending") {
		t.Errorf("the pending decisions are read by\n%s\nwant the outbox's pending rows first, through outbox_pending", strings.Join(plan, "\n"))
	}
}
