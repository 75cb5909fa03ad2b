package state

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// TestSettledItemsNamed checks the settled items looked up by the keys a
// pass's payments name against SettledItems, on both stores, before and
// after settled_keys is dropped and filled again by its migration: an item
// named by the number of an older letter is given as the newer letter
// left it (another number); items of a reversed letter, of a letter out of
// the window and of a suggestion are never given; every key named gives
// SettledItems whole.
func TestSettledItemsNamed(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func() (*Store, error)) {
		ctx := context.Background()
		s, err := open()
		if err != nil {
			t.Fatal(err)
		}
		defer func() { s.Close() }()
		at := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
		item := func(id, doc, ref, residual string) domain.OpenItem {
			return domain.OpenItem{ID: id, CustomerID: "C1", DocumentNumber: doc, PaymentReference: ref, Currency: "EUR",
				Amount: domain.MustAmount("100.00"), Residual: domain.MustAmount(residual)}
		}
		rec := func(ref string, outcome domain.Outcome, items ...domain.OpenItem) decide.DecisionRecord {
			tx := testTx(ref, "60.00")
			r := decide.DecisionRecord{Key: decide.DecisionKey("j", tx.Key, 0), Tx: &tx, FileHash: "h1", New: true,
				Decision: domain.Decision{TxKey: tx.Key, Outcome: outcome, Rule: "document"}, Items: map[string]domain.OpenItem{}}
			for _, it := range items {
				r.Decision.Allocations = append(r.Decision.Allocations, domain.Allocation{ItemID: it.ID, Amount: domain.MustAmount("60.00")})
				r.Items[it.ID] = it
			}
			return r
		}
		reversed := rec("C", domain.Auto, item("OI3", "FA-3", "", "100.00"))
		undo := rec("C-REV", domain.Auto)
		undo.Reverses = reversed.Key
		commits := []struct {
			at   time.Time
			recs []decide.DecisionRecord
		}{
			{at.AddDate(0, 0, -30), []decide.DecisionRecord{rec("D", domain.Auto, item("OI4", "FA-4", "", "100.00"))}},
			{at, []decide.DecisionRecord{rec("A", domain.Auto, item("OI1", "FA-1", "RF18539007547034", "100.00"), item("OI2", "FA-0002", "", "100.00"))}},
			{at.Add(time.Minute), []decide.DecisionRecord{rec("B", domain.Auto, item("OI1", "FA-1-BIS", "", "40.00"))}},
			{at.Add(2 * time.Minute), []decide.DecisionRecord{reversed, rec("E", domain.Suggested, item("OI5", "FA-5", "", "100.00"))}},
			{at.Add(3 * time.Minute), []decide.DecisionRecord{undo}},
		}
		for _, c := range commits {
			if err := s.SaveCommit(ctx, Commit{Job: "j", ConfigHash: "cfg", At: c.at, Decisions: c.recs}); err != nil {
				t.Fatal(err)
			}
		}
		since := at.AddDate(0, 0, -1)
		named := func(texts ...string) []string {
			var txs []domain.Transaction
			for _, x := range texts {
				txs = append(txs, domain.Transaction{Currency: "EUR", Unstructured: []string{x}})
			}
			return matcher.NamedKeys(txs)
		}
		check := func(t *testing.T) {
			t.Helper()
			whole, err := s.SettledItems(ctx, "j", since)
			if err != nil {
				t.Fatal(err)
			}
			if len(whole) != 2 || whole[0].DocumentNumber != "FA-1-BIS" || whole[1].ID != "OI2" {
				t.Fatalf("SettledItems = %+v, want OI1 as letter B left it and OI2", whole)
			}
			for _, c := range []struct {
				what  string
				named []string
				want  []domain.OpenItem
			}{
				{"the older letter's number", named("Facture FA-1"), whole[:1]},
				{"the older letter's reference", named("RF18 5390 0754 7034"), whole[:1]},
				{"the newer letter's number", named("FA 1 BIS"), whole[:1]},
				{"a number without its zeros", named("FA2"), whole[1:]},
				{"reversed, out of the window, suggested", named("FA-3 FA-4 FA-5"), nil},
				{"both", named("FA-1 et FA-0002"), whole},
				{"nothing", nil, nil},
			} {
				got, err := s.SettledItemsNamed(ctx, "j", since, c.named)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(c.want) || len(got) > 0 && !reflect.DeepEqual(got, c.want) {
					t.Errorf("%s: SettledItemsNamed = %+v, want %+v", c.what, got, c.want)
				}
			}
		}
		t.Run("written with the letters", check)
		// the table dropped and its migration applied again: the backfill
		if _, err := s.onDB().ExecContext(ctx, `DROP TABLE settled_keys`); err != nil {
			t.Fatal(err)
		}
		undoOutbox(ctx, t, s)
		if _, err := s.onDB().ExecContext(ctx, `DELETE FROM schema_migrations WHERE version >= 11`); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if s, err = open(); err != nil {
			t.Fatal(err)
		}
		t.Run("filled by the migration", check)
	})
}
