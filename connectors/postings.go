package connectors

import (
	"fmt"

	"github.com/lettrage/lettrage/domain"
)

// PostingProblem says why a posting cannot be written whatever the
// ledger — an unknown kind, an on-account posting without the customer to
// credit, a cash discount without its item or account — and "" when it
// can. Ledgers add their own checks (a write-off
// account to configure, a customer they do not know).
func PostingProblem(p domain.Posting) string {
	switch p.Kind {
	case domain.OnAccount:
		if p.CustomerID == "" {
			return "an on-account posting needs the customer to credit"
		}
	case domain.WriteOffPosting:
	case domain.CashDiscountPosting:
		if p.ItemID == "" || p.Account == "" {
			return "a cash-discount posting needs the open item it closes and the account it is booked to"
		}
	default:
		return fmt.Sprintf("unknown posting kind %q (want %s, %s or %s)", p.Kind, domain.OnAccount, domain.WriteOffPosting,
			domain.CashDiscountPosting)
	}
	return ""
}
