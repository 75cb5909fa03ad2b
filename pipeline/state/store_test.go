package state

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/decide"
)

func testTx(ref, amount string) domain.Transaction {
	return domain.Transaction{
		Key: "FR7630006000011234567890189|" + ref, Ref: ref, Account: "FR7630006000011234567890189",
		Amount: domain.MustAmount(amount), Currency: "EUR", Credit: true, Status: "BOOK",
		BookingDate: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
	}
}

func TestStoreCommitPendingApplied(t *testing.T) { forEachStore(t, testStoreCommitPendingApplied) }

func testStoreCommitPendingApplied(t *testing.T, open func() (*Store, error)) {
	ctx := context.Background()
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	auto := testTx("A1", "100.00")
	over := testTx("A2", "150.00")
	openTx := testTx("A3", "42.10")
	at := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
	c := Commit{Job: "j", ConfigHash: "cfg", At: at,
		Files: []FileRecord{{Hash: "h1", Source: "s", Path: "a.xml", Status: "processed", Transactions: 3}},
		Decisions: []decide.DecisionRecord{
			{Key: decide.DecisionKey("j", auto.Key, 0), Tx: &auto, FileHash: "h1", New: true,
				Decision: domain.Decision{TxKey: auto.Key, Outcome: domain.Auto, Rule: "reference",
					Allocations: []domain.Allocation{{ItemID: "OI1", Amount: domain.MustAmount("100.00")}}},
				Items: map[string]domain.OpenItem{"OI1": {ID: "OI1", DocumentNumber: "FA-1"}}},
			{Key: decide.DecisionKey("j", over.Key, 0), Tx: &over, FileHash: "h1", New: true,
				Decision: domain.Decision{TxKey: over.Key, Outcome: domain.Auto, Rule: "document",
					Allocations: []domain.Allocation{{ItemID: "OI2", Amount: domain.MustAmount("120.00")}},
					Excess:      domain.MustAmount("30.00")}},
			{Key: "rec-x", Tx: &openTx, FileHash: "h1", New: true,
				Decision: domain.Decision{TxKey: openTx.Key, Outcome: domain.Unmatched, Reason: "no_candidate"}},
		},
		Learned: []matcher.Learning{{Kind: "iban", Value: "DE89370400440532013000", CustomerID: "C1"}},
	}
	if err := s.SaveCommit(ctx, c); err != nil {
		t.Fatal(err)
	}
	// A second identical commit of a known file must not duplicate anything.
	if done, _ := s.FileDone(ctx, "j", "h1"); !done {
		t.Fatal("file h1 not recorded")
	}
	known, err := s.KnownTransactions(ctx, "j", []string{auto.Key, "nope"})
	if err != nil || !known[auto.Key] || known["nope"] {
		t.Fatalf("KnownTransactions = %v, %v", known, err)
	}
	pending, err := s.Pending(ctx, "j")
	if err != nil || len(pending) != 2 {
		t.Fatalf("Pending = %d, %v; want 2", len(pending), err)
	}
	if pending[0].Items["OI1"].DocumentNumber != "FA-1" && pending[1].Items["OI1"].DocumentNumber != "FA-1" {
		t.Fatalf("pending items not kept: %+v", pending)
	}
	exc, err := s.Exceptions(ctx, "j")
	if err != nil || len(exc) != 2 {
		t.Fatalf("Exceptions = %d, %v; want the unmatched one and the overpaid one", len(exc), err)
	}
	cash := decide.UnmatchedCash(exc)
	if got := cash["EUR"].String(); got != "72.1" && got != "72.10" {
		t.Fatalf("unmatched cash = %s, want 72.10 (30.00 excess + 42.10)", got)
	}
	if err := s.MarkApplied(ctx, "j", []string{pending[0].Key, pending[1].Key}, at); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Reopen: everything survived, nothing is pending any more.
	s, err = open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if p, _ := s.Pending(ctx, "j"); len(p) != 0 {
		t.Fatalf("pending after MarkApplied = %d", len(p))
	}
	mem, err := s.Memory(ctx, "j", at.AddDate(0, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	if got := mem.IBANCustomers["DE89370400440532013000"]; len(got) != 1 || got[0] != "C1" {
		t.Fatalf("learned = %v", mem.IBANCustomers)
	}
	if len(mem.Lettered[auto.Key]) != 1 {
		t.Fatalf("lettered memory = %v", mem.Lettered)
	}
}

func TestStoreCommitIsAtomic(t *testing.T) { forEachStore(t, testStoreCommitIsAtomic) }

func testStoreCommitIsAtomic(t *testing.T, open func() (*Store, error)) {
	ctx := context.Background()
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tx := testTx("B1", "10")
	ok := decide.DecisionRecord{Key: "k1", Tx: &tx, New: true, Decision: domain.Decision{Outcome: domain.Unmatched}}
	// The same transaction inserted twice as new violates the primary key:
	// the whole commit, file record included, must roll back.
	err = s.SaveCommit(ctx, Commit{Job: "j", At: time.Now(),
		Files:     []FileRecord{{Hash: "h2", Path: "b.xml"}},
		Decisions: []decide.DecisionRecord{ok, {Key: "k2", Tx: &tx, New: true, Decision: ok.Decision}}})
	if err == nil {
		t.Fatal("want an error for a duplicate transaction")
	}
	if done, _ := s.FileDone(ctx, "j", "h2"); done {
		t.Fatal("file recorded although the commit failed")
	}
	if known, _ := s.KnownTransactions(ctx, "j", []string{tx.Key}); known[tx.Key] {
		t.Fatal("transaction recorded although the commit failed")
	}
}

func TestMigrationsAreRecordedAndIdempotent(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func() (*Store, error)) {
		for i := 0; i < 2; i++ { // the second open finds everything applied
			s, err := open()
			if err != nil {
				t.Fatal(err)
			}
			var v int
			if err := s.onDB().QueryRowContext(context.Background(), `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil || v != SchemaVersion {
				t.Fatalf("schema version = %d, %v; want %d", v, err, SchemaVersion)
			}
			s.Close()
		}
	})
}

func TestRedactPersonalData(t *testing.T) {
	forEachOpenStore(t, func(t *testing.T, ctx context.Context, s *Store) {
		settled := testTx("R1", "100.00")
		settled.Counterparty = domain.Party{Name: "Jean Dupont", IBAN: "FR7630006000011234567890189"}
		settled.Unstructured = []string{"FACTURE FA-1 JEAN DUPONT 12 RUE DES LILAS"}
		settled.EndToEndID = "E2E-1"
		pending := testTx("R2", "50.00")
		pending.Counterparty = domain.Party{Name: "Marie Curie"}
		at := time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)
		err := s.SaveCommit(ctx, Commit{Job: "j", At: at, Decisions: []decide.DecisionRecord{
			{Key: "k1", Tx: &settled, New: true, Decision: domain.Decision{Outcome: domain.Auto, Rule: "payer_amount",
				Explanation: "payer IBAN FR7630006000011234567890189 belongs to C1",
				Allocations: []domain.Allocation{{ItemID: "OI1", Amount: domain.MustAmount("100.00")}}}},
			{Key: "k2", Tx: &pending, New: true, Decision: domain.Decision{Outcome: domain.Unmatched}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		// Nothing is old enough yet.
		if n, err := s.RedactPersonalData(ctx, "j", at, at); err != nil || n != 0 {
			t.Fatalf("early redaction: %d, %v", n, err)
		}
		n, err := s.RedactPersonalData(ctx, "j", at.AddDate(0, 0, 1), at.AddDate(0, 0, 400))
		if err != nil || n != 1 {
			t.Fatalf("redacted %d, %v; want the settled transaction only", n, err)
		}
		lettered, _ := s.Transactions(ctx, "j", decide.TxLettered)
		got := lettered[0]
		if got.Tx.Counterparty.Name != "" || got.Tx.Counterparty.IBAN != "" || len(got.Tx.Unstructured) != 0 {
			t.Errorf("personal data kept: %+v", got.Tx)
		}
		if !got.Tx.Amount.Equal(domain.MustAmount("100")) || got.Tx.Ref != "R1" || got.Tx.EndToEndID != "E2E-1" ||
			got.Decision.Rule != "payer_amount" || len(got.Decision.Allocations) != 1 {
			t.Errorf("audit data lost: %+v %+v", got.Tx, got.Decision)
		}
		if strings.Contains(got.Decision.Explanation, "FR7630006000011234567890189") || !strings.Contains(got.Decision.Explanation, "FR76…0189") {
			t.Errorf("explanation not masked: %q", got.Decision.Explanation)
		}
		var expl string
		if err := s.onDB().QueryRowContext(ctx, `SELECT explanation FROM decisions WHERE job = ? AND key = ?`, "j", "k1").Scan(&expl); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(expl, "FR7630006000011234567890189") {
			t.Errorf("decision explanation not masked: %q", expl)
		}
		openTxs, _ := s.Exceptions(ctx, "j")
		if len(openTxs) != 1 || openTxs[0].Tx.Counterparty.Name != "Marie Curie" {
			t.Errorf("an open exception lost its data: %+v", openTxs)
		}
		// Redaction runs once per transaction.
		if n, _ := s.RedactPersonalData(ctx, "j", at.AddDate(0, 0, 1), at.AddDate(0, 0, 401)); n != 0 {
			t.Errorf("redacted again: %d", n)
		}
	})
}

func TestSeenListing(t *testing.T) {
	forEachOpenStore(t, func(t *testing.T, ctx context.Context, s *Store) {
		mod := time.Date(2026, 11, 16, 18, 0, 0, 123, time.UTC)
		if err := s.SaveCommit(ctx, Commit{Job: "j", At: mod, Files: []FileRecord{
			{Hash: "h", Source: "src", Path: "in/a.xml", Status: "processed", Size: 1234, ModTime: mod}}}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			path string
			size int64
			mod  time.Time
			want bool
		}{
			{"in/a.xml", 1234, mod, true},
			{"in/a.xml", 1235, mod, false},                  // grew: read it again
			{"in/a.xml", 1234, mod.Add(time.Second), false}, // rewritten
			{"in/b.xml", 1234, mod, false},
			{"in/a.xml", -1, mod, false},           // size unknown
			{"in/a.xml", 1234, time.Time{}, false}, // time unknown
		} {
			got, err := s.SeenListing(ctx, "j", "src", tc.path, tc.size, tc.mod)
			if err != nil || got != tc.want {
				t.Errorf("SeenListing(%s, %d, %v) = %v, %v; want %v", tc.path, tc.size, tc.mod, got, err, tc.want)
			}
		}
	})
}

// TestMarkAppliedMovesOnlyPending: MarkApplied moves the decisions it is
// given from PENDING to APPLIED with its time, over several statements
// (chunks of keys) in any order, and leaves alone what is not pending (a
// refused letter, a decision of record, an applied one keeps its time),
// what it is not given and the keys the store does not know.
func TestMarkAppliedMovesOnlyPending(t *testing.T) {
	defer func(n int) { markAppliedChunk = n }(markAppliedChunk)
	markAppliedChunk = 3
	forEachOpenStore(t, func(t *testing.T, ctx context.Context, s *Store) {
		at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
		c := bulkCommit(40, at)
		if err := s.SaveCommit(ctx, c); err != nil {
			t.Fatal(err)
		}
		pending, err := s.Pending(ctx, "j")
		if err != nil || len(pending) != 10 {
			t.Fatalf("Pending = %d, %v; want 10", len(pending), err)
		}
		refused := pending[0].Key
		if err := s.MarkRejected(ctx, "j", []decide.Rejection{{Key: refused, Reason: "closed period"}}, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		early := pending[1].Key
		if err := s.MarkApplied(ctx, "j", []string{early}, at.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		keys := []string{"unknown-1", early, refused}
		for _, p := range pending[2:9] { // pending[9] stays pending
			keys = append(keys, p.Key)
		}
		for _, d := range c.Decisions {
			if d.Decision.Outcome != domain.Auto {
				keys = append(keys, d.Key) // decisions of record: not pending
			}
		}
		keys = append(keys, "unknown-2")
		slices.Reverse(keys)
		if err := s.MarkApplied(ctx, "j", keys, at.Add(3*time.Minute)); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for _, d := range c.Decisions {
			want[d.Key] = decide.DecRecord + "|"
		}
		for _, p := range pending[2:9] {
			want[p.Key] = decide.DecApplied + "|2026-11-20T09:03:00Z"
		}
		want[pending[9].Key] = decide.DecPending + "|"
		want[refused] = decide.DecRejected + "|2026-11-20T09:01:00Z"
		want[early] = decide.DecApplied + "|2026-11-20T09:02:00Z"
		rows, err := collect(ctx, s.onDB(), `SELECT d.key, `+outboxState+`, `+outboxAt+` FROM decisions d`+outboxJoin+` WHERE d.job = ? ORDER BY d.key`, "j")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(want) {
			t.Fatalf("%d decisions, want %d", len(rows), len(want))
		}
		for _, r := range rows {
			if got := r[1] + "|" + r[2]; got != want[r[0]] {
				t.Errorf("decision %s: %s, want %s", r[0], got, want[r[0]])
			}
		}
		if p, err := s.Pending(ctx, "j"); err != nil || len(p) != 1 || p[0].Key != pending[9].Key {
			t.Errorf("pending after MarkApplied: %d (%v), want %s alone", len(p), err, pending[9].Key)
		}
	})
}
