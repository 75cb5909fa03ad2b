package report

import (
	"time"

	"github.com/lettrage/lettrage/domain"
)

func testTx(ref, amount string) domain.Transaction {
	return domain.Transaction{
		Key: "FR7630006000011234567890189|" + ref, Ref: ref, Account: "FR7630006000011234567890189",
		Amount: domain.MustAmount(amount), Currency: "EUR", Credit: true, Status: "BOOK",
		BookingDate: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
	}
}

// accountSuffix names an account as the reports' callers do (…0189).
func accountSuffix(s string) string { return "…" + s[max(0, len(s)-4):] }
