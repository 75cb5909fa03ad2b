package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// ErrBadCrossCurrency is wrapped by the rejection of a decision whose
// cross-currency allocations (an FX rule) cannot be written consistently:
// allocations to one item in different currencies, or a cross-currency
// allocation with a write-off (its write-off would be in the cash's
// currency, not the item's).
var ErrBadCrossCurrency = errors.New("cross-currency allocation cannot be written")

// migrateFX brings an allocations table created before cross-currency
// letters existed up to date: the nullable item_amount and item_currency
// columns (NULL on a same-currency row). It alters nothing, and so takes no
// table lock, when they are there.
func (c *Client) migrateFX(ctx context.Context) error {
	var n int
	if err := c.pool.QueryRow(ctx, `SELECT count(*) FROM pg_attribute
	WHERE attrelid = $1::regclass AND attname IN ('item_amount', 'item_currency') AND NOT attisdropped`, c.allocT).Scan(&n); err != nil {
		return fmt.Errorf("inspecting table %s: %w", c.cfg.AllocationsTable, err)
	}
	if n == 2 {
		return nil
	}
	if _, err := c.pool.Exec(ctx, `ALTER TABLE `+c.allocT+` ADD COLUMN IF NOT EXISTS item_amount numeric,
	ADD COLUMN IF NOT EXISTS item_currency text`); err != nil {
		return fmt.Errorf("adding cross-currency columns to table %s: %w", c.cfg.AllocationsTable, err)
	}
	return nil
}

// fxRefusal rejects a decision whose cross-currency allocations cannot be
// written, nil when they can (or there are none).
func fxRefusal(kd connectors.KeyedDecision) *connectors.RejectedError {
	ccy := map[string]string{}
	for _, a := range kd.Decision.Allocations {
		if a.CrossCurrency() && !a.WriteOff.IsZero() {
			return &connectors.RejectedError{Key: kd.Key, Err: ErrBadCrossCurrency,
				Reason: fmt.Sprintf("the cross-currency allocation to item %s (%s) carries a write-off of %s %s: only what it settles in %s can be written",
					a.ItemID, a.ItemCurrency, a.WriteOff, kd.Tx.Currency, a.ItemCurrency)}
		}
		if prev, ok := ccy[a.ItemID]; ok && prev != a.ItemCurrency {
			return &connectors.RejectedError{Key: kd.Key, Err: ErrBadCrossCurrency,
				Reason: fmt.Sprintf("item %s is allocated in two currencies (%s and %s)", a.ItemID, orCash(prev), orCash(a.ItemCurrency))}
		}
		ccy[a.ItemID] = a.ItemCurrency
	}
	return nil
}

func orCash(ccy string) string {
	if ccy == "" {
		return "the cash's currency"
	}
	return ccy
}

// itemColumns is what an allocation settles on its item, in the item's
// currency, as recorded in the item_amount and item_currency columns: NULL
// (nil) for a same-currency allocation, whose amount and write_off say it.
func itemColumns(a domain.Allocation) (amount, currency any) {
	if !a.CrossCurrency() {
		return nil, nil
	}
	return a.ItemAmount.String(), a.ItemCurrency
}
