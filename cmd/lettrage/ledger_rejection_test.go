package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/ledger/tryton"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/testenv"
	"github.com/lettrage/lettrage/pipeline"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// TestTrytonRejectionBecomesAnException: lettrage decides to letter a
// payment, dies before writing it back, and meanwhile someone else pays the
// invoice in Tryton. The recovery does not fail forever: Tryton's refusal
// makes the payment an exception carrying the reason, its cash goes to the
// suspense account, and the invoice is paid once.
func TestTrytonRejectionBecomesAnException(t *testing.T) {
	tr := testenv.StartTryton(t)
	s, err := tr.Seed(2026, nil)
	if err != nil {
		t.Fatalf("seeding Tryton: %v", err)
	}
	led := &trytonCrash{tr: tr, seed: s}
	sc := newCrashScenario(1)
	led.addInvoices(t, sc.Upfront)
	dir := t.TempDir()
	stmts := filepath.Join(dir, "statements")
	if err := os.MkdirAll(stmts, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stmts, "day0.xml"), statementXML(0, sc.Iterations[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`log: {level: warn}
http: {listen: ""}
state: {driver: sqlite, sqlite: {path: out/state.db}}
jobs:
  - name: rej
    schedule: "@every 1h"
    source: {type: local, local: {dir: statements}}
    ledger:
%s
    reports: {dir: out, xlsx: false}
`, led.block())), 0o644); err != nil {
		t.Fatal(err)
	}

	// 1. Decided and committed, then killed before the write-back.
	if r := runBin(t, []string{pipeline.FailpointEnv + "=" + pipeline.FailAfterCommit}, "once", "-c", cfg); !r.killed {
		t.Fatalf("not killed: %d %s", r.code, r.stderr)
	}
	// 2. Someone else pays the full invoice F000 in Tryton.
	other, err := tryton.New(tryton.Config{URL: tr.URL, Database: tr.Database, User: tr.User, Password: tr.Password,
		Journal: s.StatementJournal})
	if err != nil {
		t.Fatal(err)
	}
	f := sc.Invoices["F000"]
	if err := other.Apply(context.Background(), []connectors.KeyedDecision{{Key: "someone-else",
		Tx:       domain.Transaction{Key: "other", Ref: "CHEQUE-1", BookingDate: sc.Iterations[0].Date},
		Decision: domain.Decision{Outcome: domain.Auto, Allocations: []domain.Allocation{{ItemID: fmt.Sprint(s.Invoices["F000"]), Amount: domain.MustAmount(f.Amount)}}},
	}}); err != nil {
		t.Fatalf("paying F000 by someone else: %v", err)
	}
	// 3. The recovery run finishes; the refused letter is an exception.
	r := runBin(t, nil, "once", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("recovery exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	rows := readCSV(t, filepath.Join(dir, "out", "exceptions.csv"))
	found := ""
	for _, row := range columns(t, rows, "tx_ref", "reason", "explanation") {
		if strings.HasPrefix(row, sc.Iterations[0].Txs[0].Ref) {
			found = row
		}
	}
	if !strings.Contains(found, decide.ReasonLedgerRejected) || !strings.Contains(found, "no longer open") {
		t.Errorf("exceptions.csv row of the refused payment = %q; want reason %s and Tryton's refusal", found, decide.ReasonLedgerRejected)
	}
	// In Tryton: F000 paid once (by the other payment), the refused cash on suspense.
	var inv []struct {
		State       string         `json:"state"`
		AmountToPay tryton.Decimal `json:"amount_to_pay"`
	}
	if err := tr.Call(&inv, "model.account.invoice.read", []int{s.Invoices["F000"]}, []string{"state", "amount_to_pay"}); err != nil {
		t.Fatal(err)
	}
	if inv[0].State != "paid" || !inv[0].AmountToPay.IsZero() {
		t.Errorf("F000 = %+v, want paid", inv[0])
	}
	var lines []struct {
		Description string         `json:"description"`
		Amount      tryton.Decimal `json:"amount"`
	}
	if err := tr.Call(&lines, "model.account.statement.line.search_read", [][]any{{"account", "=", s.Suspense}}, 0, nil, nil,
		[]string{"description", "amount"}); err != nil {
		t.Fatal(err)
	}
	onSuspense := false
	for _, l := range lines {
		if strings.Contains(l.Description, sc.Iterations[0].Txs[0].Ref) {
			onSuspense = l.Amount.String() == f.Amount
		}
	}
	if !onSuspense {
		t.Errorf("the refused payment's cash is not on the suspense account: %+v", lines)
	}
}
