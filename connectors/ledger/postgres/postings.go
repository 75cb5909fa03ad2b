package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// ErrBadPosting is wrapped by the rejection of a decision whose postings
// cannot be written: an unknown kind, an on-account posting without the
// customer to credit.
var ErrBadPosting = errors.New("posting cannot be written")

// postingsRefusal says why postings cannot be written, "" when they can.
func postingsRefusal(postings []domain.Posting) string {
	for _, p := range postings {
		if why := connectors.PostingProblem(p); why != "" {
			return why
		}
	}
	return ""
}

// postingsIndex is the partial unique index that lets a posting be
// reversed once: (reverses_key, seq) where reverses_key is set.
func (c *Client) postingsIndex() (name, qualified string) {
	parts := strings.Split(c.cfg.PostingsTable, ".")
	name = parts[len(parts)-1] + "_reverses_key"
	parts[len(parts)-1] = name
	return pgx.Identifier{name}.Sanitize(), pgx.Identifier(parts).Sanitize()
}

// createPostingsTable creates the postings table and its reversal index
// when missing. It takes no lock when both are there.
func (c *Client) createPostingsTable(ctx context.Context) error {
	ddl := `CREATE TABLE IF NOT EXISTS ` + c.postT + ` (
	decision_key    text NOT NULL,
	seq             int NOT NULL,
	kind            text NOT NULL,
	customer_id     text NOT NULL DEFAULT '',
	amount          numeric NOT NULL,
	currency        text NOT NULL,
	reason          text NOT NULL DEFAULT '',
	tx_key          text NOT NULL,
	tx_ref          text NOT NULL,
	account         text NOT NULL,
	booking_date    date,
	rule            text NOT NULL,
	lettered_at     timestamptz NOT NULL,
	written_at      timestamptz NOT NULL DEFAULT now(),
	reverses_key    text,
	unletter_reason text,
	item_id         text NOT NULL DEFAULT '',
	ledger_account  text NOT NULL DEFAULT '',
	UNIQUE (decision_key, seq))`
	if _, err := c.pool.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("creating table %s: %w", c.cfg.PostingsTable, err)
	}
	if err := c.migrateCashDiscount(ctx); err != nil {
		return err
	}
	name, qualified := c.postingsIndex()
	var exists bool
	if err := c.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, qualified).Scan(&exists); err != nil {
		return fmt.Errorf("inspecting index %s: %w", qualified, err)
	}
	if !exists {
		if _, err := c.pool.Exec(ctx, `CREATE UNIQUE INDEX IF NOT EXISTS `+name+` ON `+c.postT+
			` (reverses_key, seq) WHERE reverses_key IS NOT NULL`); err != nil {
			return fmt.Errorf("creating index %s: %w", qualified, err)
		}
	}
	return nil
}

// migrateCashDiscount brings a postings table created before cash-discount
// postings existed up to date: the item_id (the item a cash discount
// closes) and ledger_account (the account it is booked to) columns, empty
// on the other kinds. It alters nothing, and so takes no table lock, when
// they are there.
func (c *Client) migrateCashDiscount(ctx context.Context) error {
	var n int
	if err := c.pool.QueryRow(ctx, `SELECT count(*) FROM pg_attribute
	WHERE attrelid = $1::regclass AND attname IN ('item_id', 'ledger_account') AND NOT attisdropped`, c.postT).Scan(&n); err != nil {
		return fmt.Errorf("inspecting table %s: %w", c.cfg.PostingsTable, err)
	}
	if n == 2 {
		return nil
	}
	if _, err := c.pool.Exec(ctx, `ALTER TABLE `+c.postT+` ADD COLUMN IF NOT EXISTS item_id text NOT NULL DEFAULT '',
	ADD COLUMN IF NOT EXISTS ledger_account text NOT NULL DEFAULT ''`); err != nil {
		return fmt.Errorf("adding cash-discount columns to table %s: %w", c.cfg.PostingsTable, err)
	}
	return nil
}

// post records the decision's postings not yet recorded, and runs
// PostStatement for each of them, inside tx.
func (c *Client) post(ctx context.Context, tx pgx.Tx, kd connectors.KeyedDecision) error {
	insert := `INSERT INTO ` + c.postT + ` (decision_key, seq, kind, customer_id, amount, currency, reason,
	tx_key, tx_ref, account, booking_date, rule, lettered_at, item_id, ledger_account)
	VALUES ($1, $2, $3, $4, $5::numeric, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
	ON CONFLICT (decision_key, seq) DO NOTHING`
	for i, p := range kd.Decision.Postings {
		seq := i + 1
		tag, err := tx.Exec(ctx, insert, kd.Key, seq, string(p.Kind), p.CustomerID, p.Amount.String(), kd.Tx.Currency,
			p.Reason, kd.Tx.Key, kd.Tx.Ref, kd.Tx.Account, nullDate(kd.Tx.BookingDate), kd.Decision.Rule, kd.DecidedAt.UTC(),
			p.ItemID, p.Account)
		if err != nil {
			return fmt.Errorf("recording %s posting %d of decision %q: %w", p.Kind, seq, kd.Key, err)
		}
		if tag.RowsAffected() == 0 || c.cfg.PostStatement == "" {
			continue // already written, or the table is the write-back
		}
		if _, err := tx.Exec(ctx, c.cfg.PostStatement, postParams(kd, seq, p)); err != nil {
			return fmt.Errorf("running post_statement for decision %q, posting %d: %w", kd.Key, seq, err)
		}
	}
	return nil
}

// postParams are PostStatement's named parameters for one posting.
func postParams(kd connectors.KeyedDecision, seq int, p domain.Posting) pgx.NamedArgs {
	return pgx.NamedArgs{
		"decision_key":  kd.Key,
		"seq":           strconv.Itoa(seq),
		"kind":          string(p.Kind),
		"customer_id":   p.CustomerID,
		"amount":        p.Amount.String(),
		"currency":      kd.Tx.Currency,
		"reason":        p.Reason,
		"tx_key":        kd.Tx.Key,
		"tx_ref":        kd.Tx.Ref,
		"account":       kd.Tx.Account,
		"booking_date":  dateText(kd.Tx.BookingDate),
		"value_date":    dateText(kd.Tx.ValueDate),
		"lettered_at":   kd.DecidedAt.UTC().Format(time.RFC3339Nano),
		"rule":          kd.Decision.Rule,
		"confidence":    fmt.Sprintf("%.4f", kd.Decision.Confidence),
		"payer_name":    kd.Tx.Counterparty.Name,
		"payer_iban":    kd.Tx.Counterparty.IBAN,
		"end_to_end_id": kd.Tx.EndToEndID,
		// a cash discount: the item it closes and the account it is booked
		// to (empty for the other kinds)
		"item_id":        p.ItemID,
		"ledger_account": p.Account,
	}
}

// postRow is one posting of the decision being reversed, as the postings
// table holds it.
type postRow struct {
	seq                                 int
	kind, customerID, amount, currency  string
	reason, txKey, txRef, account, rule string
	itemID, ledgerAccount               string
	bookingDate                         *string
	reverses                            *string
}

// lockPostings reads (FOR UPDATE) the postings recorded under key.
func (c *Client) lockPostings(ctx context.Context, tx pgx.Tx, key string) ([]postRow, error) {
	rows, err := tx.Query(ctx, `SELECT seq, kind, customer_id, amount::text, currency, reason, tx_key, tx_ref, account,
	rule, booking_date::text, reverses_key, item_id, ledger_account FROM `+c.postT+` WHERE decision_key = $1 ORDER BY seq FOR UPDATE`, key)
	if err != nil {
		return nil, fmt.Errorf("locking postings of %q: %w", key, err)
	}
	defer rows.Close()
	var out []postRow
	for rows.Next() {
		var p postRow
		if err := rows.Scan(&p.seq, &p.kind, &p.customerID, &p.amount, &p.currency, &p.reason, &p.txKey, &p.txRef,
			&p.account, &p.rule, &p.bookingDate, &p.reverses, &p.itemID, &p.ledgerAccount); err != nil {
			return nil, fmt.Errorf("reading postings of %q: %w", key, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading postings of %q: %w", key, err)
	}
	return out, nil
}

// unpost records the reversal r of the postings in rows (negated rows under
// r.Key, reverses_key = r.Reverses) and runs UnpostStatement for each,
// inside tx.
func (c *Client) unpost(ctx context.Context, tx pgx.Tx, r connectors.Reversal, rows []postRow, at time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+c.postT+` (decision_key, seq, kind, customer_id, amount, currency, reason,
	tx_key, tx_ref, account, booking_date, rule, lettered_at, reverses_key, unletter_reason, item_id, ledger_account)
	SELECT $1, seq, kind, customer_id, -amount, currency, reason, tx_key, tx_ref, account, booking_date, $2, $3, decision_key, $4,
	item_id, ledger_account
	FROM `+c.postT+` WHERE decision_key = $5`, r.Key, unletterRule, at.UTC(), r.Reason, r.Reverses); err != nil {
		return fmt.Errorf("recording reversal %q of the postings of %q: %w", r.Key, r.Reverses, err)
	}
	if c.cfg.UnpostStatement == "" {
		return nil
	}
	for _, row := range rows {
		amount, err := domain.ParseAmount(row.amount)
		if err != nil {
			return fmt.Errorf("reading amount of posting %d of %q: %w", row.seq, r.Reverses, err)
		}
		t := r.Tx
		t.Key, t.Ref, t.Account, t.Currency = row.txKey, row.txRef, row.account, row.currency
		if row.bookingDate != nil {
			if d, err := time.Parse(time.DateOnly, *row.bookingDate); err == nil {
				t.BookingDate = d
			}
		}
		kd := connectors.KeyedDecision{Key: r.Key, Tx: t, DecidedAt: at,
			Decision: domain.Decision{Rule: unletterRule, Confidence: 1}}
		args := postParams(kd, row.seq, domain.Posting{Kind: domain.PostingKind(row.kind), CustomerID: row.customerID,
			Amount: amount, Reason: row.reason, ItemID: row.itemID, Account: row.ledgerAccount})
		args["reverses_key"] = r.Reverses
		args["unletter_reason"] = r.Reason
		if _, err := tx.Exec(ctx, c.cfg.UnpostStatement, args); err != nil {
			return fmt.Errorf("running unpost_statement for reversal %q, posting %d: %w", r.Key, row.seq, err)
		}
	}
	return nil
}
