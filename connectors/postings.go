package connectors

import (
	"fmt"

	"github.com/lettrage/lettrage/matcher"
)

// PostingProblem says why a posting cannot be written whatever the
// ledger — an unknown kind, an on-account posting without the customer to
// credit — and "" when it can. Ledgers add their own checks (a write-off
// account to configure, a customer they do not know).
func PostingProblem(p matcher.Posting) string {
	switch p.Kind {
	case matcher.OnAccount:
		if p.CustomerID == "" {
			return "an on-account posting needs the customer to credit"
		}
	case matcher.WriteOffPosting:
	default:
		return fmt.Sprintf("unknown posting kind %q (want %s or %s)", p.Kind, matcher.OnAccount, matcher.WriteOffPosting)
	}
	return ""
}
