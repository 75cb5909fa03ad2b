package state

import (
	"cmp"
	"slices"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
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

// OrderKey is what the orders compare of one row.
type OrderKey struct {
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
func txOrderKey(tx *domain.Transaction) OrderKey {
	return OrderKey{account: tx.Account, date: dateOrder(tx.BookingDate), ref: tx.Ref, key: tx.Key}
}

// WriteBackKey is the writeBackOrder key of a decision (key) on tx, read
// from the file hashed file.
func WriteBackKey(file string, tx *domain.Transaction, key string) OrderKey {
	return OrderKey{file: file, account: tx.Account, date: dateOrder(tx.BookingDate), ref: tx.Ref, key: key}
}

// compareOrder is the one comparator of both orders (txOrder keys leave
// file empty).
func compareOrder(a, b *OrderKey) int {
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

// OrderBy returns the permutation of 0..n-1 that sorts the rows whose keys
// key(i) gives.
func OrderBy(n int, key func(i int) OrderKey) []int32 {
	keys := make([]OrderKey, n)
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

// SortTxs puts stored transactions in txOrder.
func SortTxs(txs []decide.StoredTx) {
	permute(txs, OrderBy(len(txs), func(i int) OrderKey { return txOrderKey(&txs[i].Tx) }))
}

// SortPending puts pending decisions in writeBackOrder.
func SortPending(ps []decide.PendingDecision) {
	permute(ps, OrderBy(len(ps), func(i int) OrderKey { return WriteBackKey(ps[i].FileHash, &ps[i].Tx, ps[i].Key) }))
}
