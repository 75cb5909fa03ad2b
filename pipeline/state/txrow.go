package state

import (
	"encoding/json"
	"fmt"

	"github.com/lettrage/lettrage/domain"
)

// A transactions row's data (schema 13) leaves out what the row's columns
// hold already: the key, tx_ref, account, currency and amount (written by
// txSlimJSON). A reader selects those columns beside data (txCols) and
// decodes with txRow.decode, which sets them from the columns when the
// JSON has no key. Rows written before, and a value txSlimJSON hands to
// encoding/json, carry them in their JSON (whose "key" member is never
// left out): they decode as before, from the JSON alone.

// txCols is the data column of transactions row alias a and the columns
// txRow.decode fills the transaction from, in txRow.dest's order.
func txCols(a string) string {
	return a + ".data, " + a + ".key, " + a + ".ref, " + a + ".account, " + a + ".currency, " + a + ".amount"
}

// txRow is what txCols selects.
type txRow struct{ data, key, ref, account, currency, amount string }

// dest gives the Scan destinations of txCols's columns.
func (r *txRow) dest() []any {
	return []any{&r.data, &r.key, &r.ref, &r.account, &r.currency, &r.amount}
}

// decode decodes the row's transaction into t.
func (r *txRow) decode(t *domain.Transaction) error {
	if err := json.Unmarshal([]byte(r.data), t); err != nil {
		return fmt.Errorf("decoding stored transaction %q: %w", r.key, err)
	}
	if t.Key != "" {
		return nil // a whole JSON
	}
	return r.fill(t)
}

// fill sets the fields the row's columns hold.
func (r *txRow) fill(t *domain.Transaction) error {
	amount, err := domain.ParseAmount(r.amount)
	if err != nil {
		return fmt.Errorf("decoding stored transaction %q: %w", r.key, err)
	}
	t.Key, t.Ref, t.Account, t.Currency, t.Amount = r.key, r.ref, r.account, r.currency, amount
	return nil
}
