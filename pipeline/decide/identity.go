package decide

import (
	"encoding/hex"
	"hash/fnv"

	"github.com/lettrage/lettrage/domain"
)

// The keys the identity rule (pipeline/identity.go) and the state stores
// index transactions by: a transaction's class and the link keys that
// join a batch entry to its details.

const (
	LinkBatch  = "batch"
	LinkDetail = "detail"
)

// Booked reports whether the transaction is booked (or has no status).
func Booked(t *domain.Transaction) bool { return t.Status == "BOOK" || t.Status == "" }

// IdentClass is the identity class of a transaction (recorded in the state
// store: never change how it is computed): 16 hex digits of a
// hash of account, currency, amount, direction, booking date and status
// group.
func IdentClass(t *domain.Transaction) string {
	cd := "D"
	if t.Credit {
		cd = "C"
	}
	group := ""
	if !Booked(t) {
		group = t.Status
	}
	return hashParts(t.Account, t.Currency, t.Amount.Key(), cd, t.BookingDate.Format("2006-01-02"), group)
}

// hashParts is 16 hex digits of the FNV-1a hash of the parts, separated.
func hashParts(parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0x1f})
	}
	var b [8]byte
	return hex.EncodeToString(h.Sum(b[:0]))
}

// LinkKeys are the keys under which a batch entry and the details of its
// entry meet: account, currency, direction, the entry's amount and one of
// its references.
func LinkKeys(t *domain.Transaction) []string {
	if t.Origin == nil {
		return nil
	}
	amount := t.Origin.EntryAmount
	if t.IsBatchEntry() {
		amount = t.Amount
	}
	var out []string
	for _, l := range t.Origin.Links {
		cd := "D"
		if t.Credit {
			cd = "C"
		}
		out = append(out, hashParts(t.Account, t.Currency, cd, amount.Key(), l))
	}
	return out
}
