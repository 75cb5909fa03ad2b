package odoo

import (
	"context"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/testenv"
)

// The payments mode needs no more than the Billing rights (groups
// base.group_user and account.group_account_invoice, "Invoicing: Billing"
// in Community): open items, a payment with a write-off, postings on
// account and written off, and their reversal. docs/ODOO.md names these
// groups; TestAccessErrorIsAnOutage shows record_exceptions needs
// account.group_account_user besides.
func TestPaymentsModeNeedsOnlyBilling(t *testing.T) {
	f := newFx(t)
	if err := f.db.SetUserGroups("base.group_user", "account.group_account_invoice"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.db.SetUserGroups(testenv.OdooUserGroups...); err != nil {
			t.Error(err)
		}
	})
	f.partner("Dupont", "FR7630006000011234567890189")
	ids := f.invoices(inv("Dupont", "100"))
	c := f.client(withWriteOff)
	ctx := context.Background()
	items, err := c.OpenItems(ctx)
	if err != nil {
		t.Fatalf("OpenItems: %v", err)
	}
	found := false
	for _, it := range items {
		found = found || it.ID == ids[0] && len(it.IBANs) == 1
	}
	if !found {
		t.Errorf("invoice %s with its customer's bank account not among the open items", ids[0])
	}
	d := f.pd("k1", []domain.Posting{onAccount(f.pid("Dupont"), "3"), writeOff("1", "X")}, al(ids[0], "99", "1"))
	if err := c.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := f.states(ids[0]); got != "paid/0" {
		t.Errorf("invoice = %s", got)
	}
	if err := c.Unletter(ctx, f.rev("u1", "k1")); err != nil {
		t.Fatalf("Unletter: %v", err)
	}
	if got, _ := c.Applied(ctx, []string{f.key("u1")}); !got[f.key("u1")] || f.states(ids[0]) != "not_paid/100" {
		t.Errorf("reversal applied %v, invoice %s", got, f.states(ids[0]))
	}
}
