package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

var _ connectors.Unletterer = (*Client)(nil)

// ErrNotLettered is wrapped by the rejection of a reversal whose decision
// the allocations table does not hold as a lettering (unknown, or itself a
// reversal).
var ErrNotLettered = errors.New("no such lettering to reverse")

// ErrAlreadyReversed is wrapped by the rejection of a reversal whose
// decision was already reversed under another key.
var ErrAlreadyReversed = errors.New("lettering already reversed")

// ErrKeyInUse is returned (wrapped) when a reversal's key is already
// recorded for something else than undoing the same decision.
var ErrKeyInUse = errors.New("reversal key already used for another decision")

// unletterRule is the rule recorded on reversal rows.
const unletterRule = "unletter"

// reversalIndex is the name of the partial unique index that lets a
// lettering be reversed once: (reverses_key, item_id) where reverses_key is
// set. It lives in the table's schema.
func (c *Client) reversalIndex() (name, qualified string) {
	parts := strings.Split(c.cfg.AllocationsTable, ".")
	name = parts[len(parts)-1] + "_reverses_key"
	parts[len(parts)-1] = name
	return pgx.Identifier{name}.Sanitize(), pgx.Identifier(parts).Sanitize()
}

// migrateReversals brings an allocations table created before reversals
// existed up to date: the reverses_key and reason columns and the index
// that lets a lettering be reversed once. It alters nothing (and so takes
// no table lock) when they are there.
func (c *Client) migrateReversals(ctx context.Context) error {
	var n int
	if err := c.pool.QueryRow(ctx, `SELECT count(*) FROM pg_attribute
	WHERE attrelid = $1::regclass AND attname IN ('reverses_key', 'reason') AND NOT attisdropped`, c.allocT).Scan(&n); err != nil {
		return fmt.Errorf("inspecting table %s: %w", c.cfg.AllocationsTable, err)
	}
	if n < 2 {
		if _, err := c.pool.Exec(ctx, `ALTER TABLE `+c.allocT+` ADD COLUMN IF NOT EXISTS reverses_key text,
		ADD COLUMN IF NOT EXISTS reason text`); err != nil {
			return fmt.Errorf("adding reversal columns to table %s: %w", c.cfg.AllocationsTable, err)
		}
	}
	name, qualified := c.reversalIndex()
	var exists bool
	if err := c.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, qualified).Scan(&exists); err != nil {
		return fmt.Errorf("inspecting index %s: %w", qualified, err)
	}
	if !exists {
		if _, err := c.pool.Exec(ctx, `CREATE UNIQUE INDEX IF NOT EXISTS `+name+` ON `+c.allocT+
			` (reverses_key, item_id) WHERE reverses_key IS NOT NULL`); err != nil {
			return fmt.Errorf("creating index %s: %w", qualified, err)
		}
	}
	return nil
}

// letterRow is one allocation of the lettering being reversed, as the
// allocations table holds it.
type letterRow struct {
	itemID, amount, writeOff, currency string
	txKey, txRef, account              string
	bookingDate                        *string
	reverses                           *string
	// itemAmount and itemCurrency are set for a cross-currency allocation.
	itemAmount, itemCurrency *string
}

// Unletter reverses the lettering r.Reverses in one transaction: each of its
// allocations is recorded again under r.Key with negated amounts (and
// reverses_key = r.Reverses), and UnapplyStatement, if any, runs once per
// allocation to give the residual back in the ERP's tables; its postings
// (on-account and write-off cash) likewise in the postings table, with
// UnpostStatement. The postings reversed are those the table holds under
// r.Reverses (what was written), whatever r.Postings says. A reversal whose
// key is already recorded is a no-op.
//
// The rows of the lettering (allocations, then postings) are locked first,
// so concurrent reversals of it queue: the first one wins, a later one under the same key does nothing
// and one under another key is rejected (ErrAlreadyReversed). A reversal
// of a decision the table does not hold as a lettering is rejected
// (ErrNotLettered), and so is one that UnapplyStatement refuses with a
// business error (SQLSTATE class 22 or 23, P0001, P0004): in every case
// with a *connectors.RejectedError and nothing written.
func (c *Client) Unletter(ctx context.Context, r connectors.Reversal) error {
	if r.Key == "" || r.Reverses == "" {
		return fmt.Errorf("unlettering %q: %w", r.Tx.Ref, errors.New("the reversal needs a key and the key of the decision it reverses"))
	}
	tx, err := c.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("beginning reversal %q: %w", r.Key, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	letter, err := c.lockLetter(ctx, tx, r.Reverses)
	if err != nil {
		return err
	}
	posts, err := c.lockPostings(ctx, tx, r.Reverses)
	if err != nil {
		return err
	}
	var done *string
	err = tx.QueryRow(ctx, `SELECT reverses_key FROM `+c.allocT+` WHERE decision_key = $1
	UNION ALL SELECT reverses_key FROM `+c.postT+` WHERE decision_key = $1 LIMIT 1`, r.Key).Scan(&done)
	switch {
	case err == nil:
		if done != nil && *done == r.Reverses {
			return nil // already recorded: a replay
		}
		return fmt.Errorf("unlettering %q under key %q: %w", r.Reverses, r.Key, ErrKeyInUse)
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("looking up reversal %q: %w", r.Key, err)
	}
	reject := func(reason string, cause error) error {
		return fmt.Errorf("unlettering %q: %w", r.Reverses,
			&connectors.RejectedError{Key: r.Key, Reason: reason, Err: cause})
	}
	if len(letter) == 0 && len(posts) == 0 {
		return reject(fmt.Sprintf("the allocations table holds no lettering %s", r.Reverses), ErrNotLettered)
	}
	for _, of := range []*string{firstReverses(letter), firstPostReverses(posts)} {
		if of != nil {
			return reject(fmt.Sprintf("%s is itself a reversal (of %s), not a lettering", r.Reverses, *of), ErrNotLettered)
		}
	}
	var by string
	err = tx.QueryRow(ctx, `SELECT decision_key FROM `+c.allocT+` WHERE reverses_key = $1
	UNION ALL SELECT decision_key FROM `+c.postT+` WHERE reverses_key = $1 LIMIT 1`, r.Reverses).Scan(&by)
	switch {
	case err == nil:
		return reject(fmt.Sprintf("lettering %s was already reversed by %s", r.Reverses, by), ErrAlreadyReversed)
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("looking up reversals of %q: %w", r.Reverses, err)
	}

	at := r.At
	if at.IsZero() {
		at = time.Now()
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+c.allocT+` (decision_key, item_id, tx_key, tx_ref, account, amount,
	write_off, currency, booking_date, rule, lettered_at, reverses_key, reason, item_amount, item_currency)
	SELECT $1, item_id, tx_key, tx_ref, account, -amount, -write_off, currency, booking_date, $2, $3, decision_key, $4,
	-item_amount, item_currency
	FROM `+c.allocT+` WHERE decision_key = $5`, r.Key, unletterRule, at.UTC(), r.Reason, r.Reverses); err != nil {
		if reason, ok := businessError(err); ok {
			return reject(reason, err)
		}
		return fmt.Errorf("recording reversal %q of %q: %w", r.Key, r.Reverses, err)
	}
	if c.cfg.UnapplyStatement != "" {
		for _, row := range letter {
			args, err := c.unapplyParams(r, row, at)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, c.cfg.UnapplyStatement, args); err != nil {
				if reason, ok := businessError(err); ok {
					return reject(reason, err)
				}
				return fmt.Errorf("running unapply_statement for reversal %q, item %q: %w", r.Key, row.itemID, err)
			}
		}
	}
	if err := c.unpost(ctx, tx, r, posts, at); err != nil {
		if reason, ok := businessError(err); ok {
			return reject(reason, err)
		}
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing reversal %q of %q: %w", r.Key, r.Reverses, err)
	}
	return nil
}

func firstReverses(rows []letterRow) *string {
	if len(rows) == 0 {
		return nil
	}
	return rows[0].reverses
}

func firstPostReverses(rows []postRow) *string {
	if len(rows) == 0 {
		return nil
	}
	return rows[0].reverses
}

// lockLetter reads (FOR UPDATE) the rows recorded under key.
func (c *Client) lockLetter(ctx context.Context, tx pgx.Tx, key string) ([]letterRow, error) {
	rows, err := tx.Query(ctx, `SELECT item_id, amount::text, write_off::text, currency, tx_key, tx_ref, account,
	booking_date::text, reverses_key, item_amount::text, item_currency FROM `+c.allocT+` WHERE decision_key = $1 ORDER BY item_id FOR UPDATE`, key)
	if err != nil {
		return nil, fmt.Errorf("locking lettering %q: %w", key, err)
	}
	defer rows.Close()
	var out []letterRow
	for rows.Next() {
		var l letterRow
		if err := rows.Scan(&l.itemID, &l.amount, &l.writeOff, &l.currency, &l.txKey, &l.txRef, &l.account,
			&l.bookingDate, &l.reverses, &l.itemAmount, &l.itemCurrency); err != nil {
			return nil, fmt.Errorf("reading lettering %q: %w", key, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading lettering %q: %w", key, err)
	}
	return out, nil
}

// unapplyParams are ApplyStatement's parameters for one allocation given
// back, plus @reverses_key and @reason. The transaction's identity, the
// currencies and the amounts (item_amount and item_currency included) come
// from the allocations table (what was written), the rest from the
// reversal.
func (c *Client) unapplyParams(r connectors.Reversal, row letterRow, at time.Time) (pgx.NamedArgs, error) {
	amount, err := domain.ParseAmount(row.amount)
	if err != nil {
		return nil, fmt.Errorf("reading amount of lettering %q, item %q: %w", r.Reverses, row.itemID, err)
	}
	writeOff, err := domain.ParseAmount(row.writeOff)
	if err != nil {
		return nil, fmt.Errorf("reading write-off of lettering %q, item %q: %w", r.Reverses, row.itemID, err)
	}
	t := r.Tx
	t.Key, t.Ref, t.Account, t.Currency = row.txKey, row.txRef, row.account, row.currency
	if row.bookingDate != nil {
		if d, err := time.Parse(time.DateOnly, *row.bookingDate); err == nil {
			t.BookingDate = d
		}
	}
	kd := connectors.KeyedDecision{Key: r.Key, Tx: t, Items: r.Items, DecidedAt: at,
		Decision: domain.Decision{Rule: unletterRule, Confidence: 1}}
	al := domain.Allocation{ItemID: row.itemID, Amount: amount, WriteOff: writeOff}
	if row.itemCurrency != nil && *row.itemCurrency != "" {
		if row.itemAmount == nil {
			return nil, fmt.Errorf("reading item amount of lettering %q, item %q: %w", r.Reverses, row.itemID,
				fmt.Errorf("item_currency %s without item_amount", *row.itemCurrency))
		}
		if al.ItemAmount, err = domain.ParseAmount(*row.itemAmount); err != nil {
			return nil, fmt.Errorf("reading item amount of lettering %q, item %q: %w", r.Reverses, row.itemID, err)
		}
		al.ItemCurrency = *row.itemCurrency
	}
	args := c.params(kd, al)
	args["reverses_key"] = r.Reverses
	args["reason"] = r.Reason
	return args, nil
}
