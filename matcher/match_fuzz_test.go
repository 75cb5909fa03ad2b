package matcher

import (
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// FuzzMatch feeds arbitrary remittance text, payer and amount to Match over
// a small book with look-alike numbers: it must never panic and every
// output must satisfy the allocation invariants.
func FuzzMatch(f *testing.F) {
	f.Add("FA-2025-00123", "", "Dupont", int64(125000))
	f.Add("RF18 5390 0754 7034", "FR7630006000011234567890189", "", int64(50000))
	f.Add("+++123/4567/89002+++ FA2025/100001", "", "Ets Martin", int64(9995))
	f.Add("FA-2025-10000 AV-2025-7", "BE68539007547034", "\xff", int64(1))
	due := time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC)
	items := []domain.OpenItem{
		{ID: "i1", CustomerID: "C1", CustomerName: "Dupont SARL", DocumentNumber: "FA-2025-00123", PaymentReference: "RF18539007547034",
			Currency: "EUR", Amount: domain.MustAmount("1250"), Residual: domain.MustAmount("1250"), DueDate: due, IBANs: []string{"FR7630006000011234567890189"}},
		{ID: "i2", CustomerID: "C2", CustomerName: "Martin SA", DocumentNumber: "FA-2025-10000", Currency: "EUR",
			Amount: domain.MustAmount("100"), Residual: domain.MustAmount("100"), DueDate: due, IBANs: []string{"BE68539007547034"}},
		{ID: "i3", CustomerID: "C3", CustomerName: "Martin Fils", DocumentNumber: "FA-2025-100001", PaymentReference: "+++123/4567/89002+++",
			Currency: "EUR", Amount: domain.MustAmount("99.95"), Residual: domain.MustAmount("99.95"), DueDate: due, IBANs: []string{"BE68539007547034"}},
		{ID: "i4", CustomerID: "C2", CustomerName: "Martin SA", DocumentNumber: "AV-2025-7", Currency: "EUR",
			Amount: domain.MustAmount("-20"), Residual: domain.MustAmount("-20"), DueDate: due},
		{ID: "i5", CustomerID: "C2", CustomerName: "Martin SA", DocumentNumber: "FA-2025-10002", Currency: "EUR",
			Amount: domain.MustAmount("100"), Residual: domain.MustAmount("100"), DueDate: due.AddDate(0, 1, 0)},
	}
	cfg := DefaultConfig()
	cfg.Tolerances = []Tolerance{{Absolute: domain.MustAmount("5"), Percent: domain.MustAmount("1")}}
	f.Fuzz(func(t *testing.T, text, iban, name string, cents int64) {
		if cents <= 0 || cents > 1e12 {
			return
		}
		mk := func(key string) domain.Transaction {
			return domain.Transaction{Key: key, Amount: domain.AmountFromCents(cents), Currency: "EUR", Credit: true, Status: "BOOK",
				Counterparty: domain.Party{IBAN: iban, Name: name, UltimateName: name},
				Unstructured: []string{text, text}, Structured: []domain.Reference{{Value: text}}, Additional: []string{text}}
		}
		in := Input{Transactions: []domain.Transaction{mk("a"), mk("b")}, Items: items, Config: cfg,
			Memory: Memory{IBANCustomers: map[string][]string{iban: {"C3"}}, NameCustomers: map[string][]string{name: {"C1"}}}}
		out := Match(in)
		checkInvariants(t, in, out)
		checkShuffled(t, in, out, 1)
	})
}
