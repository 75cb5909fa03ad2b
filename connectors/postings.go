package connectors

import (
	"fmt"

	"github.com/lettrage/lettrage/matcher"
)

// PostingProblem says why a posting cannot be written whatever the
// ledger — an unknown kind, an on-account posting without the customer to
// credit, a cash discount without its item or account — and "" when it
// can. Ledgers add their own checks (a write-off
// account to configure, a customer they do not know).
func PostingProblem(p matcher.Posting) string {
	switch p.Kind {
	case matcher.OnAccount:
		if p.CustomerID == "" {
			return "an on-account posting needs the customer to credit"
		}
	case matcher.WriteOffPosting:
	case matcher.CashDiscountPosting:
		if p.ItemID == "" || p.Account == "" {
			return "a cash-discount posting needs the open item it closes and the account it is booked to"
		}
	default:
		return fmt.Sprintf("unknown posting kind %q (want %s, %s or %s)", p.Kind, matcher.OnAccount, matcher.WriteOffPosting,
			matcher.CashDiscountPosting)
	}
	return ""
}
