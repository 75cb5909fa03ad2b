package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIdlePassOdooLedger: with the Odoo ledger, a pass after a recent
// write to what the open items are read from reads them (no stamp within
// the quiet hour); once nothing was written for an hour — write dates
// moved back by SQL, as time would — a pass records the stamp and the
// next leaves the items unread; a payment or a customer renamed in Odoo
// makes the next pass read them again.
func TestIdlePassOdooLedger(t *testing.T) {
	t.Parallel()
	o := sharedOdoo(t)
	db := o.Database(t)
	led := &odooCrash{db: db, ids: map[string]int{}}
	dir := t.TempDir()
	cfg := odooJob(t, dir, led)
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(data), "level: warn", "level: info", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	led.addInvoices(t, []crashInvoice{{Label: "A", Party: "Idle Alpha", Amount: "100.00", RF: "RF18539007547034"},
		{Label: "B", Party: "Idle Beta", Amount: "250.00", RF: "RF71INVB"}})
	const unread, read = "open items unchanged since they were last read: not read", `msg="open items loaded"`
	pass := func(step string, wantRead bool) {
		t.Helper()
		r := runBin(t, nil, "once", "-c", cfg)
		if r.code != 0 {
			t.Fatalf("%s: once exit %d: %s", step, r.code, r.stderr)
		}
		gotRead, gotUnread := strings.Contains(r.stderr, read), strings.Contains(r.stderr, unread)
		if gotRead == gotUnread {
			t.Fatalf("%s: read %v, unread %v in the log:\n%s", step, gotRead, gotUnread, r.stderr)
		}
		if gotRead != wantRead {
			t.Errorf("%s: open items read %v, want %v", step, gotRead, wantRead)
		}
	}
	quiet := func() {
		t.Helper()
		for _, table := range []string{"account_move", "res_partner", "res_partner_bank", "res_currency"} {
			if _, err := db.SQL("UPDATE " + table + " SET write_date = write_date - interval '2 hours' WHERE write_date > now() at time zone 'UTC' - interval '2 hours'"); err != nil {
				t.Fatal(err)
			}
		}
	}
	pass("first pass, invoices just posted", true)
	pass("nothing written for less than an hour", true)
	quiet()
	pass("quiet for an hour: the stamp recorded", true)
	pass("idle pass", false)
	pass("idle pass again", false)
	if err := db.Pay(led.ids["A"], "40.00", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	pass("a payment just registered in Odoo", true)
	quiet()
	pass("a payment registered in Odoo, an hour ago", true)
	pass("idle after the payment", false)
	var partner []struct {
		Partner []any `json:"partner_id"`
	}
	if err := db.Call(&partner, "account.move", "read", []any{[]int{led.ids["B"]}}, map[string]any{"fields": []string{"partner_id"}}); err != nil || len(partner) != 1 {
		t.Fatalf("reading invoice B: %v", err)
	}
	if err := db.Call(nil, "res.partner", "write", []any{[]any{partner[0].Partner[0]}, map[string]any{"name": "Idle Beta renamed"}}, nil); err != nil {
		t.Fatal(err)
	}
	quiet()
	pass("a customer renamed an hour ago", true)
	pass("idle after the rename", false)
	if _, err := os.Stat(filepath.Join(dir, "out", "exceptions.csv")); err != nil {
		t.Error(err)
	}
}
