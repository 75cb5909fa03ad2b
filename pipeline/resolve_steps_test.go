package pipeline

import (
	"strings"
	"testing"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/report"
)

// The policies of resolveRow's named steps, each a small pure function
// (the resolutions themselves are tested end to end in resolve_test.go).

func TestCheckRow(t *testing.T) {
	seen := map[string]int{"FR7630006000011234567890189|T1": 4}
	for _, tc := range []struct {
		name    string
		r       report.Resolution
		key     string
		refusal string // a part of it
	}{
		{"no ref", report.Resolution{Account: "FR76 3000 6000 0112 3456 7890 189", Action: "accept"}, "", "required"},
		{"no account", report.Resolution{TxRef: "T2", Action: "accept"}, "", "required"},
		{"unknown action", report.Resolution{TxRef: "T2", Account: "FR7630006000011234567890189", Action: "pay"}, "", `unknown action "pay"`},
		{"duplicate", report.Resolution{TxRef: "T1", Account: "fr76 3000 6000 0112 3456 7890 189", Action: "ignore"}, "", "row 4 already"},
		{"ok", report.Resolution{TxRef: "T2", Account: "fr76 3000 6000 0112 3456 7890 189", Action: "write_off"}, "FR7630006000011234567890189|T2", ""},
		{"no action", report.Resolution{TxRef: "T2", Account: "FR7630006000011234567890189"}, "FR7630006000011234567890189|T2", ""},
	} {
		key, refusal := checkRow(tc.r, seen)
		if key != tc.key || (tc.refusal == "") != (refusal == "") || !strings.Contains(refusal, tc.refusal) {
			t.Errorf("%s: checkRow = %q, %q; want %q, %q", tc.name, key, refusal, tc.key, tc.refusal)
		}
	}
}

func TestStateRefusal(t *testing.T) {
	excess := domain.MustAmount("12.50")
	over := decide.StoredTx{State: decide.TxLettered, Decision: domain.Decision{Outcome: domain.Auto, Rule: "document", Excess: excess},
		Tx: domain.Transaction{Currency: "EUR"}}
	for _, tc := range []struct {
		name   string
		action string
		st     decide.StoredTx
		want   string // a part of the refusal; "" for none
	}{
		{"open", "ignore", decide.StoredTx{State: decide.TxOpen}, ""},
		{"remainder", "on_account", over, ""},
		{"remainder ignored", "ignore", over, "with 12.50 EUR left over"},
		{"lettered whole", "letter", decide.StoredTx{State: decide.TxLettered, Decision: domain.Decision{Outcome: domain.Auto, Rule: "reference"}},
			"it was lettered meanwhile (rule reference)"},
		{"ignored", "letter", decide.StoredTx{State: "ignored"}, "any more: it is ignored"},
	} {
		got := stateRefusal(report.Resolution{Action: tc.action}, tc.st)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: stateRefusal = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestResolvedBy(t *testing.T) {
	r := report.Resolution{Row: 7}
	if got := resolvedBy(r, ResolveOptions{Origin: "/in/box/fixes.xlsx"}); got != "by an accountant from fixes.xlsx row 7" {
		t.Errorf("resolvedBy = %q", got)
	}
	r.Comment = "R12"
	if got := resolvedBy(r, ResolveOptions{Actor: "marie", Origin: "fixes.csv"}); got != "by marie from fixes.csv row 7 — R12" {
		t.Errorf("resolvedBy = %q", got)
	}
}
