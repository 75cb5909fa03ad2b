package state

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// TestCopyCommitStoresWhatInsertsStore holds PostgreSQL's COPY commit
// (pgcopy.go) to the rows SQLite's INSERTs store from the same commits:
// more rows than one COPY carries, batch links repeated within a
// transaction (the staging table's ON CONFLICT), a decision key recorded
// twice in one commit and again in the next (the first row kept: the
// recorded transaction's update flushes the batches first), and recorded
// transactions updated between the batches; an outbox row per letter.
func TestCopyCommitStoresWhatInsertsStore(t *testing.T) {
	ctx := context.Background()
	lite, err := OpenSQLite(t.TempDir() + "/state.db")
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pgs, err := OpenPostgres(ctx, pg.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pgs.Close()

	n := 2*copyRows + 7
	at := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
	first := Commit{Job: "j", ConfigHash: "cfg", At: at,
		Files:   []FileRecord{{Hash: "h1", Source: "s", Path: "a.xml", Status: "processed", Transactions: n}},
		Learned: []matcher.Learning{{Kind: "iban", Value: "DE89370400440532013000", CustomerID: "C1"}}}
	second := Commit{Job: "j", ConfigHash: "cfg2", At: at.Add(time.Hour)}
	for i := range n {
		tx := testTx(fmt.Sprintf("R%06d", i), fmt.Sprintf("%d.%02d", 10+i, i%100))
		if i%3 == 0 {
			l := fmt.Sprintf("L%d", i/6) // shared by two transactions
			tx.Origin = &domain.Origin{Batch: 2, Links: []string{l, l, "M" + l}}
		}
		dec := domain.Decision{TxKey: tx.Key, Outcome: domain.Unmatched, Reason: "no_candidate"}
		if i%2 == 0 {
			dec = domain.Decision{TxKey: tx.Key, Outcome: domain.Auto, Rule: "reference", Confidence: 0.1 + float64(i%7)/10,
				Allocations: []domain.Allocation{{ItemID: fmt.Sprintf("OI%d", i), Amount: tx.Amount}}}
		}
		r := decide.DecisionRecord{Key: decide.DecisionKey("j", tx.Key, 0), Tx: &tx, FileHash: "h1", New: true, Decision: dec,
			Items: map[string]domain.OpenItem{"OI": {ID: "OI", DocumentNumber: fmt.Sprint(i)}}}
		first.Decisions = append(first.Decisions, r)
		again := r
		again.New = false
		again.Decision = domain.Decision{TxKey: tx.Key, Outcome: domain.Suggested, Reason: "ambiguous", Confidence: 0.5}
		if i%1000 == 1 {
			first.Decisions = append(first.Decisions, again) // the same key twice in one commit
		}
		if i%5 == 0 {
			second.Decisions = append(second.Decisions, again) // and in the next
		}
	}
	for _, s := range []*Store{lite, pgs} {
		for _, c := range []Commit{first, second} {
			if err := s.SaveCommit(ctx, c); err != nil {
				t.Fatalf("dialect %d: %v", s.Dialect(), err)
			}
		}
	}
	for _, q := range []string{
		`SELECT job, key, ref, account, booking_date, currency, amount, state, file_hash, data, decision, exception,
			first_seen_at, updated_at, ident, decision_key, redacted_at, compacted_at FROM transactions`,
		`SELECT job, key, tx_key, outcome, rule, confidence, explanation, data, items, config_hash, decided_at, state,
			applied_at, actor, origin, reverses FROM decisions`,
		`SELECT job, key, state, at FROM outbox`,
		`SELECT job, link, tx_key, role FROM tx_links`,
		`SELECT job, hash, source, path, status, transactions, error, processed_at, size, mod_time, identity_rule FROM files`,
		`SELECT kind, value, customer_id, learned_at FROM memory`,
	} {
		want, got := dumpRows(t, lite, q), dumpRows(t, pgs, q)
		if len(want) < 1 || !slices.Equal(got, want) {
			t.Errorf("%s:\nPostgreSQL %d rows, SQLite %d rows; first difference:\n%s", q, len(got), len(want), firstDiff(got, want))
		}
	}
	var links, decs, outbox int
	if err := pgs.DB().QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM tx_links), (SELECT COUNT(*) FROM decisions),
		(SELECT COUNT(*) FROM outbox WHERE state = 'pending')`).Scan(&links, &decs, &outbox); err != nil {
		t.Fatal(err)
	}
	if want := 2 * ((n + 2) / 3); links != want || decs != n || outbox != (n+1)/2 {
		t.Fatalf("PostgreSQL holds %d links, %d decisions and %d pending in the outbox, want %d, %d and %d (the letters)",
			links, decs, outbox, want, n, (n+1)/2)
	}
}

// dumpRows is every row of q as text, sorted.
func dumpRows(t *testing.T, s *Store, q string) []string {
	t.Helper()
	rows, err := collect(context.Background(), s.onDB(), q)
	if err != nil {
		t.Fatalf("dialect %d: %v", s.Dialect(), err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(r, "\x1f")
	}
	slices.Sort(out)
	return out
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return "got  " + got[i] + "\nwant " + want[i]
		}
	}
	return "(one is a prefix of the other)"
}
