package decide

import (
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// TestRefusedState pins what a refused decision leaves its transaction in:
// an open exception (held after a partial write) carrying the ledger's
// message and the refused items as candidates, unless an earlier letter of
// the payment stands (the refused decision resolved its remainder).
func TestRefusedState(t *testing.T) {
	d := domain.Decision{TxKey: "t", Outcome: domain.Auto, Rule: "exact", Confidence: 0.95, Explanation: "paid INV-1",
		Allocations: []domain.Allocation{{ItemID: "OI-1", Amount: domain.MustAmount("10.00")}}}
	items := map[string]domain.OpenItem{"OI-1": {ID: "OI-1", CustomerID: "C-1"}}
	state, exc := RefusedState(d, items, Rejection{Key: "k", Reason: "closed period"}, []AutoDecision{{Key: "k", Decision: d, State: DecRejected}})
	if state != TxOpen || exc.Outcome != domain.Suggested || exc.Reason != ReasonLedgerRejected ||
		len(exc.Candidates) != 1 || exc.Candidates[0].CustomerID != "C-1" || !strings.Contains(exc.Explanation, "closed period") {
		t.Errorf("refused letter: %s %+v", state, exc)
	}
	state, exc = RefusedState(d, items, Rejection{Key: "k", Reason: "closed period", Hold: true}, nil)
	if state != TxHeld || exc.Reason != ReasonLedgerRejectedPartial {
		t.Errorf("refused after a partial write: %s %+v", state, exc)
	}
	letter := domain.Decision{TxKey: "t", Outcome: domain.Auto, Rule: "exact", Explanation: "paid INV-0", Excess: domain.MustAmount("5.00"),
		Allocations: []domain.Allocation{{ItemID: "OI-0", Amount: domain.MustAmount("10.00")}}}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	all := []AutoDecision{{Key: "k0", Decision: letter, State: DecApplied, DecidedAt: at}, {Key: "k", Decision: d, State: DecRejected, DecidedAt: at.Add(time.Hour)}}
	state, exc = RefusedState(d, items, Rejection{Key: "k", Reason: "closed period"}, all)
	if state != TxLettered || exc.Outcome != domain.Auto || exc.Reason != ReasonLedgerRejected || len(exc.Allocations) != 1 ||
		exc.Allocations[0].ItemID != "OI-0" || !exc.Excess.Equal(domain.MustAmount("5.00")) {
		t.Errorf("refused resolution of a remainder: %s %+v", state, exc)
	}
}
