package file

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors"
)

// TestOpenItemsStamp: the stamp changes when the export or the journal is
// written (the letters' journal by Apply), stays the same otherwise; the
// items read are lasting unless an as_of after the clock left some
// unplaced.
func TestOpenItemsStamp(t *testing.T) {
	ctx := context.Background()
	l, write := reexportLedger(t, Config{})
	var _ connectors.OpenItemsStamper = l
	stamp := func() string {
		t.Helper()
		s, err := l.OpenItemsStamp(ctx)
		if err != nil || s == "" {
			t.Fatalf("stamp %q, %v", s, err)
		}
		return s
	}
	write(header + "INV-1,C1,Alpha,D-1,2026-10-01,2026-10-31,EUR,200.00,200.00,,\n")
	openResiduals(t, l) // the first reading creates the journal
	s1 := stamp()
	openResiduals(t, l)
	if !l.OpenItemsLasting() {
		t.Error("items without as_of not lasting")
	}
	if s := stamp(); s != s1 {
		t.Errorf("stamp changed by reading again: %q then %q", s1, s)
	}
	write(header + "INV-1,C1,Alpha,D-1,2026-10-01,2026-10-31,EUR,200.00,150.00,,\n")
	s2 := stamp()
	if s2 == s1 {
		t.Error("stamp unchanged by a new export")
	}
	d := decidedAt(decision("k1", "R1", alloc("INV-1", "50.00", "")), "2026-12-07T09:00:00Z")
	if err := l.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
		t.Fatal(err)
	}
	if s3 := stamp(); s3 == s2 {
		t.Error("stamp unchanged by a letter written to the journal")
	}
	if err := os.Remove(l.cfg.Journal); err != nil {
		t.Fatal(err)
	}
	if s := stamp(); !strings.Contains(s, "absent") {
		t.Errorf("stamp without the journal = %q", s)
	}

	// An as_of after the ledger's clock (2026-12-09): the clock decides.
	l2, write2 := reexportLedger(t, Config{})
	write2("id,customer_id,customer_name,document_number,issue_date,due_date,currency,amount,residual,payment_reference,customer_iban,as_of\n" +
		"INV-1,C1,Alpha,D-1,2026-10-01,2026-10-31,EUR,200.00,200.00,,,2027-01-01T00:00:00Z\n")
	openResiduals(t, l2)
	if l2.OpenItemsLasting() {
		t.Error("items with an as_of in the future said lasting")
	}
}
