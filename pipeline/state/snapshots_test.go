package state

import (
	"context"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// itemList is a decide.ItemSnapshots over a list of items, as a pass
// hands its open items to its commit.
type itemList []domain.OpenItem

func (l itemList) Named(d *domain.Decision) map[string]domain.OpenItem {
	out := map[string]domain.OpenItem{}
	for _, a := range d.Allocations {
		for _, it := range l {
			if it.ID == a.ItemID {
				out[it.ID] = it
			}
		}
	}
	return out
}

func TestCommitSnapshots(t *testing.T) { forEachOpenStore(t, testCommitSnapshots) }

// An automatic decision committed without Items records those the
// commit's Snapshots name for it, as if it had carried them; a record
// with its own Items, and a record that is no letter, keep theirs.
func testCommitSnapshots(t *testing.T, ctx context.Context, s *Store) {
	shared, own, exc := testTx("S1", "100.00"), testTx("S2", "50.00"), testTx("S3", "7.00")
	letter := func(tx *domain.Transaction, item string) domain.Decision {
		return domain.Decision{TxKey: tx.Key, Outcome: domain.Auto, Rule: "reference",
			Allocations: []domain.Allocation{{ItemID: item, Amount: tx.Amount}}}
	}
	c := Commit{Job: "j", ConfigHash: "cfg", At: time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC),
		Snapshots: itemList{{ID: "OI1", DocumentNumber: "FA-1", CustomerID: "C1"}, {ID: "OI2", DocumentNumber: "FA-2"}},
		Decisions: []decide.DecisionRecord{
			{Key: decide.DecisionKey("j", shared.Key, 0), Tx: &shared, New: true, Decision: letter(&shared, "OI1")},
			{Key: decide.DecisionKey("j", own.Key, 0), Tx: &own, New: true, Decision: letter(&own, "OI2"),
				Items: map[string]domain.OpenItem{"OI2": {ID: "OI2", DocumentNumber: "FA-2 as decided"}}},
			{Key: "rec-s3", Tx: &exc, New: true, Decision: domain.Decision{TxKey: exc.Key, Outcome: domain.Unmatched}},
		}}
	if err := s.SaveCommit(ctx, c); err != nil {
		t.Fatal(err)
	}
	pending, err := s.Pending(ctx, "j")
	if err != nil || len(pending) != 2 {
		t.Fatalf("Pending = %d, %v; want 2", len(pending), err)
	}
	got := map[string]string{}
	for _, p := range pending {
		for id, it := range p.Items {
			got[p.Tx.Ref+" "+id] = it.DocumentNumber + " " + it.CustomerID
		}
	}
	want := map[string]string{"S1 OI1": "FA-1 C1", "S2 OI2": "FA-2 as decided "}
	if len(got) != len(want) || got["S1 OI1"] != want["S1 OI1"] || got["S2 OI2"] != want["S2 OI2"] {
		t.Fatalf("items recorded = %q, want %q", got, want)
	}
	var items string
	if err := s.onDB().QueryRowContext(ctx, `SELECT items FROM decisions WHERE job = ? AND key = ?`, "j", "rec-s3").Scan(&items); err != nil {
		t.Fatal(err)
	}
	if items != "null" {
		t.Fatalf("items of an exception = %s, want null", items)
	}
}
