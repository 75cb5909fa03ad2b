package tryton

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/internal/failpoint"
	"github.com/lettrage/lettrage/domain"
)

var _ connectors.ExceptionSink = (*Client)(nil)

// ExceptionKey is the number of the suspense line that holds the
// unlettered cash of the transaction txKey: stable, so that a replay finds
// the line instead of booking the cash again.
func ExceptionKey(txKey string) string {
	sum := sha256.Sum256([]byte(txKey))
	return "exc-" + hex.EncodeToString(sum[:10])
}

// unallocated is the cash of an exception that no allocation took.
func unallocated(e connectors.Exception) domain.Amount {
	if e.Decision.Outcome == domain.Auto {
		return e.Decision.Excess
	}
	return e.Tx.Amount
}

// RecordExceptions books, in the statement journal, every unlettered credit
// not yet there on the suspense account (Config.SuspenseAccount): one line
// per transaction numbered ExceptionKey(tx key), in one posted statement
// per call. Accountants see the open cash on that account in Tryton; Apply
// moves it to the invoices when a later run letters the transaction. A
// transaction in another currency than the journal's is left to the
// exceptions files. Without a suspense account it does nothing.
//
// When Tryton refuses some lines for business reasons (a booking date in a
// closed period), the others are booked all the same and the refused ones
// come back as *connectors.RejectedError whose Key is the transaction key:
// the caller should log them, not fail the run.
func (c *Client) RecordExceptions(ctx context.Context, exc []connectors.Exception) error {
	if c.cfg.SuspenseAccount == "" || len(exc) == 0 {
		return nil
	}
	if err := c.setup(ctx); err != nil {
		return err
	}
	type entry struct {
		key, txKey string
		line       lineValues
	}
	var entries []entry
	for _, e := range exc {
		amt := unallocated(e)
		if !e.Tx.Credit || amt.Sign() <= 0 || (c.currency != "" && e.Tx.Currency != c.currency) {
			continue
		}
		d := e.Tx.BookingDate
		if d.IsZero() {
			d = e.Tx.ValueDate
		}
		if d.IsZero() {
			continue // a booked transaction always has a date; nothing sane to book
		}
		d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
		key := ExceptionKey(e.Tx.Key)
		entries = append(entries, entry{key: key, txKey: e.Tx.Key, line: lineValues{Number: key, Date: Date{d}, Amount: Decimal{amt},
			Account: c.suspenseAcc, Description: exceptionText(e)}})
	}
	if len(entries) == 0 {
		return nil
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
	keys := make([]string, len(entries))
	for i, e := range entries {
		keys[i] = e.key
	}
	have, err := c.settle(ctx, keys)
	if err != nil {
		return fmt.Errorf("recording %d exceptions in Tryton: %w", len(entries), err)
	}
	var todo []entry
	for _, e := range entries {
		if !have[e.key] {
			todo = append(todo, e)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	writeLines := func(es []entry) error {
		ks := make([]string, len(es))
		ls := make([]lineValues, len(es))
		for i, e := range es {
			ks[i], ls[i] = e.key, e.line
		}
		id, err := c.post(ctx, "Lettrage suspense", ks, ls)
		if err != nil {
			return err
		}
		failpoint.Crash(FailExceptionsAfterCreate)
		if err := c.finish(ctx, id, "draft"); err != nil {
			if isBusiness(err) {
				if derr := c.discard(ctx, id); derr != nil {
					return errors.Join(err, derr)
				}
			}
			return err
		}
		return nil
	}
	err = writeLines(todo)
	if err == nil {
		return nil
	}
	if !isBusiness(err) {
		return fmt.Errorf("recording %d exceptions in Tryton: %w", len(todo), err)
	}
	var refused []error
	refuse := func(e entry, err error) {
		refused = append(refused, &connectors.RejectedError{Key: e.txKey, Reason: reasonOf(err),
			Err: fmt.Errorf("booking exception %s (%s) on suspense: %w", e.key, e.line.Description, err)})
	}
	if len(todo) == 1 {
		refuse(todo[0], err)
		return fmt.Errorf("recording exceptions in Tryton: %w", refused[0])
	}
	// Tryton refused the statement: book each line alone so that one bad
	// line (a date in a closed period) does not keep the others out.
	for _, e := range todo {
		if err := writeLines([]entry{e}); err != nil {
			if !isBusiness(err) {
				return fmt.Errorf("recording exception %s in Tryton: %w", e.key, err)
			}
			refuse(e, err)
		}
	}
	if len(refused) > 0 {
		return fmt.Errorf("recording exceptions in Tryton, %d of %d refused: %w", len(refused), len(todo), errors.Join(refused...))
	}
	return nil
}

// exceptionText describes an unlettered transaction on its suspense line:
// the bank reference, the payer, the reason and the best candidates.
func exceptionText(e connectors.Exception) string {
	parts := []string{"lettrage unlettered", e.Tx.Ref}
	if n := e.Tx.Counterparty.Name; n != "" {
		parts = append(parts, n)
	}
	if r := e.Decision.Reason; r != "" {
		parts = append(parts, "("+r+")")
	} else {
		parts = append(parts, "("+string(e.Decision.Outcome)+")")
	}
	var refs []string
	for _, r := range e.Tx.Structured {
		refs = append(refs, r.Value)
	}
	refs = append(refs, e.Tx.Unstructured...)
	if len(refs) > 0 {
		parts = append(parts, strings.Join(refs, " "))
	}
	if len(e.Decision.Candidates) > 0 {
		var cs []string
		for _, cd := range e.Decision.Candidates {
			cs = append(cs, fmt.Sprintf("invoice %s %.0f%%", cd.ItemID, cd.Score*100))
		}
		parts = append(parts, "candidates: "+strings.Join(cs, ", "))
	}
	s := strings.Join(parts, " ")
	if r := []rune(s); len(r) > 500 {
		s = string(r[:500])
	}
	return s
}

// suspenseLines returns, by transaction key, the live suspense lines of
// the decisions' transactions (finishing any a crash left unposted), so
// that Apply moves that cash instead of booking it again.
func (c *Client) suspenseLines(ctx context.Context, todo []connectors.KeyedDecision) (map[string]stmtLine, error) {
	if c.suspenseAcc == 0 {
		return nil, nil
	}
	byKey := map[string]string{}
	var keys []string
	for _, kd := range todo {
		k := ExceptionKey(kd.Tx.Key)
		byKey[k] = kd.Tx.Key
		keys = append(keys, k)
	}
	if _, err := c.settle(ctx, keys); err != nil {
		return nil, fmt.Errorf("finishing suspense lines: %w", err)
	}
	lines, err := c.findLines(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := map[string]stmtLine{}
	for _, l := range lines {
		if l.StmtRel.State == "cancelled" {
			continue
		}
		out[byKey[l.Number]] = l
	}
	return out, nil
}

// suspenseMark names, in the description of a statement line on the
// suspense account, the suspense line (ExceptionKey) whose cash it moves:
// "from suspense exc-…" (a letter takes it), "back to suspense exc-…" or
// "to suspense exc-…" (a reversal gives it back). suspenseHeld sums them.
func suspenseMark(excKey string) string { return "suspense " + excKey }

// suspenseHeld returns, by transaction key, the cash the suspense account
// holds for each transaction of booked (its suspense lines, as returned by
// suspenseLines): the suspense line itself, less what letters moved from
// it, plus what reversals put back. A transaction's suspense line books its
// cash once, but a payment can be lettered in parts (a letter, then the
// resolution of its remainder) and unlettered again: what a letter may
// move is what is held now, not the line's amount.
func (c *Client) suspenseHeld(ctx context.Context, booked map[string]stmtLine) (map[string]domain.Amount, error) {
	out := map[string]domain.Amount{}
	if len(booked) == 0 {
		return out, nil
	}
	txOf := map[string]string{} // exception key → transaction key
	or := []any{"OR"}
	for txKey, l := range booked {
		txOf[l.Number] = txKey
		or = append(or, []any{"number", "=", l.Number}, []any{"description", "like", "%" + suspenseMark(l.Number) + "%"})
	}
	lines, err := c.linesOf(ctx, [][]any{{"account", "=", c.suspenseAcc}, or})
	if err != nil {
		return nil, fmt.Errorf("reading what the suspense account holds: %w", err)
	}
	for _, l := range lines {
		for excKey, txKey := range txOf {
			if l.Number == excKey || strings.Contains(l.Description, suspenseMark(excKey)) {
				out[txKey] = out[txKey].Add(l.Amount.Amount)
				break
			}
		}
	}
	return out, nil
}
