package tryton

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
)

// A batch with decisions Tryton must refuse: the others are written, the
// refused ones come back as RejectedErrors carrying the reason, and nothing
// of them is in Tryton.
func TestRejectionsLeaveTheRestApplied(t *testing.T) {
	tryton(t)
	ctx := context.Background()
	c := newClient(t, nil)
	// N is paid by someone else before our batch.
	if err := c.Apply(ctx, []connectors.KeyedDecision{kd("r-other", booked, al(inv("N"), "25.00", ""))}); err != nil {
		t.Fatalf("paying N: %v", err)
	}
	before := statementCount(t)
	batch := []connectors.KeyedDecision{
		kd("r-ok", booked, al(inv("J"), "100.00", "")),
		kd("r-paid", booked, al(inv("N"), "25.00", "")),
		kd("r-above", booked, al(inv("M"), "60.01", "")),
		kd("r-2031", time.Date(2031, 1, 5, 0, 0, 0, 0, time.UTC), al(inv("K"), "200.00", "")),
		kd("r-noinv", booked, al("999999", "1.00", "")),
	}
	err := c.Apply(ctx, batch)
	rej, only := connectors.Rejections(err)
	if !only {
		t.Fatalf("Apply = %v; want rejections only", err)
	}
	reasons := map[string]string{}
	for _, r := range rej {
		reasons[r.Key] = r.Reason
	}
	want := map[string]string{
		"r-paid":  "no longer open",
		"r-above": "above the invoice's amount to pay",
		"r-2031":  "", // Tryton's own message, checked below
		"r-noinv": "not found",
	}
	if len(reasons) != len(want) {
		t.Errorf("rejected %v, want %d keys", reasons, len(want))
	}
	for k, frag := range want {
		r, ok := reasons[k]
		if !ok || !strings.Contains(r, frag) {
			t.Errorf("rejection of %s = %q, want it to contain %q", k, r, frag)
		}
	}
	if r := strings.ToLower(reasons["r-2031"]); !strings.Contains(r, "period") && !strings.Contains(r, "fiscal year") {
		t.Errorf("r-2031 reason %q is not Tryton's message about the period", reasons["r-2031"])
	}
	var te *Error
	for _, r := range rej {
		if r.Key == "r-2031" && (!errors.As(r, &te) || te.Kind != "UserError") {
			t.Errorf("r-2031 does not carry the Tryton UserError: %v", r.Err)
		}
	}
	if got := states(t, "J", "K", "M", "N"); got != "J=paid/0 K=posted/200 M=posted/60 N=paid/0" {
		t.Errorf("invoices = %q", got)
	}
	applied, err := c.Applied(ctx, []string{"r-ok", "r-paid", "r-above", "r-2031", "r-noinv"})
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 1 || !applied["r-ok"] {
		t.Errorf("Applied = %v, want only r-ok", applied)
	}
	// The refused statement was deleted: one new statement, for r-ok.
	if n := statementCount(t); n != before+1 {
		t.Errorf("statements = %d, want %d", n, before+1)
	}
	// Again: r-ok is not written twice, the others are refused again.
	err = c.Apply(ctx, batch)
	if rej, only := connectors.Rejections(err); !only || len(rej) != 4 {
		t.Errorf("second Apply = %v, want the same 4 rejections", err)
	}
	if n := statementCount(t); n != before+1 {
		t.Errorf("statements after replay = %d, want %d", n, before+1)
	}
}
