package pipeline

import (
	"cmp"
	"slices"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// The two orders of the state, in one place for every store and the pass:
//
//   - txOrder, the order transactions are listed in (the exceptions
//     reports, the open exceptions matched again): by account, booking
//     date, tx_ref and key;
//   - writeBackOrder, the order automatic decisions are written to the
//     ledger (one batch per statement file): by the content hash of the
//     file the transaction came from, then as txOrder with the decision's
//     key last.
//
// Booking dates compare by their calendar date (dateText: the day in the
// time's own zone), as the state store keeps them; strings compare byte by
// byte.

// orderKey is what the orders compare of one row.
type orderKey struct {
	file, account string
	date          int32 // yyyymmdd; 0 for no date
	ref, key      string
}

// dateOrder is t's calendar date as yyyymmdd, ordered as dateText orders
// it (0 for the zero time).
func dateOrder(t time.Time) int32 {
	if t.IsZero() {
		return 0
	}
	y, m, d := t.Date()
	return int32(y*10000 + int(m)*100 + d)
}

// txOrderKey is the txOrder key of a transaction.
func txOrderKey(tx *domain.Transaction) orderKey {
	return orderKey{account: tx.Account, date: dateOrder(tx.BookingDate), ref: tx.Ref, key: tx.Key}
}

// writeBackKey is the writeBackOrder key of a decision (key) on tx, read
// from the file hashed file.
func writeBackKey(file string, tx *domain.Transaction, key string) orderKey {
	return orderKey{file: file, account: tx.Account, date: dateOrder(tx.BookingDate), ref: tx.Ref, key: key}
}

// compareOrder is the one comparator of both orders (txOrder keys leave
// file empty).
func compareOrder(a, b *orderKey) int {
	if c := cmp.Compare(a.file, b.file); c != 0 {
		return c
	}
	if c := cmp.Compare(a.account, b.account); c != 0 {
		return c
	}
	if c := cmp.Compare(a.date, b.date); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ref, b.ref); c != 0 {
		return c
	}
	return cmp.Compare(a.key, b.key)
}

// orderBy returns the permutation of 0..n-1 that sorts the rows whose keys
// key(i) gives.
func orderBy(n int, key func(i int) orderKey) []int32 {
	keys := make([]orderKey, n)
	perm := make([]int32, n)
	for i := range keys {
		keys[i] = key(i)
		perm[i] = int32(i)
	}
	slices.SortFunc(perm, func(a, b int32) int {
		if c := compareOrder(&keys[a], &keys[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b) // equal keys keep their order
	})
	return perm
}

// permute puts xs in the order perm gives (in place).
func permute[T any](xs []T, perm []int32) {
	if slices.IsSorted(perm) {
		return
	}
	out := make([]T, len(xs))
	for k, i := range perm {
		out[k] = xs[i]
	}
	copy(xs, out)
}

// sortTxs puts stored transactions in txOrder.
func sortTxs(txs []StoredTx) {
	permute(txs, orderBy(len(txs), func(i int) orderKey { return txOrderKey(&txs[i].Tx) }))
}

// sortPending puts pending decisions in writeBackOrder.
func sortPending(ps []PendingDecision) {
	permute(ps, orderBy(len(ps), func(i int) orderKey { return writeBackKey(ps[i].FileHash, &ps[i].Tx, ps[i].Key) }))
}
