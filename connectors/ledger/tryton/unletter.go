package tryton

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/internal/failpoint"
	"github.com/lettrage/lettrage/domain"
)

var _ connectors.Unletterer = (*Client)(nil)

// ErrNotLettered is wrapped by the rejection of a reversal whose decision
// is not a lettering posted in the statement journal (unknown, not posted,
// or lines with neither invoice nor posting, such as a suspense line or a
// reversal).
var ErrNotLettered = errors.New("no such lettering to reverse in Tryton")

// ErrCreditUsed is wrapped by the rejection of a reversal whose decision
// put cash on a customer's account that was since reconciled in Tryton
// (used to pay an invoice): that reconciliation must be undone first.
var ErrCreditUsed = errors.New("on-account credit already used in Tryton")

// ErrAlreadyReversed is wrapped by the rejection of a reversal whose
// decision was already reversed under another key.
var ErrAlreadyReversed = errors.New("lettering already reversed in Tryton")

// FailUnletterBeforePost is a failpoint: the process dies with the
// reversal statement validated (its moves created and reconciled) but not
// posted. The next Unletter deletes that statement and starts again.
const FailUnletterBeforePost = "tryton-unletter-before-post"

// reversalPrefix starts the description of every reversal line, followed
// by the reversed decision's key and a colon: it is how a second reversal
// of one lettering is recognised.
const reversalPrefix = "unletters "

// once sends a call that must not be repeated blindly (a repeat would fail
// on records already gone or lines already reconciled, and look like a
// refusal): a lost answer is an uncertain error, and the next Unletter
// starts again from what Tryton holds.
var once = callOpts{}

// fullLine is a statement line with what a reversal needs.
type fullLine struct {
	ID          int     `json:"id"`
	Number      string  `json:"number"`
	Statement   int     `json:"statement"`
	Amount      Decimal `json:"amount"`
	Party       *int    `json:"party"`
	Account     int     `json:"account"`
	Invoice     *int    `json:"invoice"`
	Move        *int    `json:"move"`
	Description string  `json:"description"`
	StmtRel     struct {
		State string `json:"state"`
	} `json:"statement."`
}

var fullLineFields = []string{"number", "statement", "amount", "party", "account", "invoice", "move", "description", "statement.state"}

// linesOf returns the journal's statement lines matching domain, except
// those of cancelled statements.
func (c *Client) linesOf(ctx context.Context, searchDomain [][]any) ([]fullLine, error) {
	searchDomain = append(searchDomain, []any{"statement.journal", "=", c.journalID}, []any{"statement.state", "!=", "cancelled"})
	var lines []fullLine
	if err := c.rpc.call(ctx, &lines, read, "model.account.statement.line.search_read", searchDomain, 0, nil,
		[][]string{{"id", "ASC"}}, fullLineFields); err != nil {
		return nil, fmt.Errorf("searching statement lines: %w", err)
	}
	return lines, nil
}

type moveLine struct {
	ID             int    `json:"id"`
	Origin         string `json:"origin"`
	Account        int    `json:"account"`
	Party          *int   `json:"party"`
	Reconciliation *int   `json:"reconciliation"`
}

// moveLinesOf returns the move lines created for statement lines, by the
// statement line they come from.
func (c *Client) moveLinesOf(ctx context.Context, lines []fullLine) (map[int]moveLine, error) {
	moves := map[int]bool{}
	for _, l := range lines {
		if l.Move != nil {
			moves[*l.Move] = true
		}
	}
	out := map[int]moveLine{}
	if len(moves) == 0 {
		return out, nil
	}
	ids := make([]int, 0, len(moves))
	for id := range moves {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	var mls []moveLine
	if err := c.rpc.call(ctx, &mls, read, "model.account.move.line.search_read", [][]any{{"move", "in", ids}}, 0, nil,
		[][]string{{"id", "ASC"}}, []string{"origin", "account", "party", "reconciliation"}); err != nil {
		return nil, fmt.Errorf("reading the moves of statement lines: %w", err)
	}
	for _, ml := range mls {
		model, id, ok := strings.Cut(ml.Origin, ",")
		if !ok || model != "account.statement.line" {
			continue // the journal's counterpart line
		}
		n, err := strconv.Atoi(id)
		if err != nil {
			continue
		}
		out[n] = ml
	}
	return out, nil
}

// Unletter reverses the lettering r.Reverses in Tryton, so that its
// invoices are open again with their amount to pay back:
//
//  1. the reconciliations of the lettering's invoice lines are deleted
//     (an invoice paid by it goes back to posted) and those lines leave the
//     invoices' payment lines;
//  2. a statement in the same journal mirrors every line of the lettering
//     (same party and account, opposite amount, no invoice, numbered r.Key,
//     described "unletters <r.Reverses>: <reason>"), is validated, and each
//     original receivable line is reconciled with its mirror, so neither
//     stays open on the customer's account;
//  3. that statement is posted — last, so a posted line numbered r.Key means
//     the whole reversal is done, and Applied reports r.Key.
//
// The cash effect mirrors the lettering: a lettering paid from the bank is
// taken out of it again (as the bank does for a returned payment; a
// payment that stays in the bank comes back through the exceptions, on the
// suspense account when one is configured), one that moved cash from the
// suspense account puts it back there. When the transaction already has
// its suspense line (the remainder of an overpaid letter was booked there),
// the cash the lettering took from the bank goes to the suspense account
// instead of leaving the bank (see mirrorLines).
//
// Postings are reversed with the allocations: an on-account line is
// mirrored on the customer's receivable and reconciled with its mirror (a
// credit the customer already used in Tryton, i.e. reconciled, is refused
// with ErrCreditUsed), a write-off line is mirrored on the write-off
// account. A decision of postings only is reversed like any lettering.
//
// Idempotent under r.Key: a posted reversal is a no-op, and one a crash
// left in draft or validated is deleted and made again. A reversal of a
// decision Tryton does not hold as a posted lettering (ErrNotLettered) or
// of one already reversed under another key (ErrAlreadyReversed) is
// rejected with a *connectors.RejectedError, and so is one Tryton refuses
// with a UserError (a closed period).
func (c *Client) Unletter(ctx context.Context, r connectors.Reversal) error {
	if r.Key == "" || r.Reverses == "" {
		return fmt.Errorf("unlettering %q: %w", r.Tx.Ref, errors.New("the reversal needs a key and the key of the decision it reverses"))
	}
	if err := c.setup(ctx); err != nil {
		return err
	}
	if done, err := c.restartReversal(ctx, r); err != nil || done {
		return err
	}
	orig, origMoves, err := c.reversible(ctx, r)
	if err != nil {
		return err
	}
	// 1. The mirror statement, validated: nothing changed before it, so a
	// refusal leaves nothing behind.
	at := r.At
	if at.IsZero() {
		at = time.Now()
	}
	day := reversalDay(at)
	lines, err := c.mirrorLines(ctx, r, orig, day, reversalDescription(r))
	if err != nil {
		return fmt.Errorf("unlettering %q: %w", r.Reverses, err)
	}
	id, err := c.post(ctx, "Lettrage unletter", []string{r.Key}, lines)
	if err != nil {
		if isBusiness(err) {
			return rejectReversal(r, reasonOf(err), err)
		}
		return fmt.Errorf("unlettering %q: %w", r.Reverses, err)
	}
	if err := c.rpc.call(ctx, nil, read, "model.account.statement.validate_statement", []int{id}); err != nil {
		return c.failMirror(ctx, r, id, fmt.Errorf("validating statement %d: %w", id, err))
	}
	// 2. Undo the invoices' side.
	if err := c.undoInvoices(ctx, r, id, orig, origMoves); err != nil {
		return err
	}
	// 3. Each original receivable line reconciled with its mirror.
	if err := c.reconcileMirrors(ctx, orig, origMoves, r.Key, day); err != nil {
		return fmt.Errorf("unlettering %q: %w", r.Reverses, err)
	}
	failpoint.Crash(FailUnletterBeforePost)

	// 4. Post: from now on the reversal is done.
	if err := c.rpc.call(ctx, nil, read, "model.account.statement.post", []int{id}); err != nil {
		return fmt.Errorf("unlettering %q: posting statement %d: %w", r.Reverses, id, err)
	}
	return nil
}

// rejectReversal is reversal r refused for reason, cause wrapped in a
// *connectors.RejectedError.
func rejectReversal(r connectors.Reversal, reason string, cause error) error {
	return fmt.Errorf("unlettering %q: %w", r.Reverses, &connectors.RejectedError{Key: r.Key, Reason: reason, Err: cause})
}

// failMirror is err raised once the mirror statement id exists: Tryton's
// refusal (a business error) deletes the statement and refuses the
// reversal; anything else is an error, the next call starting again.
func (c *Client) failMirror(ctx context.Context, r connectors.Reversal, id int, err error) error {
	if !isBusiness(err) {
		return fmt.Errorf("unlettering %q: %w", r.Reverses, err)
	}
	if derr := c.discard(ctx, id); derr != nil {
		return fmt.Errorf("unlettering %q: %w", r.Reverses, errors.Join(err, derr))
	}
	return rejectReversal(r, reasonOf(err), err)
}

// restartReversal reads the statement lines numbered r.Key: done is true
// when they are posted (the reversal was made before); otherwise the
// statements a crash left between the steps are deleted, to start again.
func (c *Client) restartReversal(ctx context.Context, r connectors.Reversal) (done bool, err error) {
	mine, err := c.linesOf(ctx, [][]any{{"number", "=", r.Key}})
	if err != nil {
		return false, fmt.Errorf("unlettering %q: %w", r.Reverses, err)
	}
	leftover := map[int]bool{}
	for _, l := range mine {
		if l.StmtRel.State == "posted" {
			return true, nil // done before
		}
		leftover[l.Statement] = true
	}
	for id := range leftover { // a crash between the steps: start again
		if err := c.discard(ctx, id); err != nil {
			return false, fmt.Errorf("unlettering %q: %w", r.Reverses, err)
		}
	}
	return false, nil
}

// reversible reads the statement lines of the lettering r.Reverses and
// their move lines, and refuses the reversal (a *connectors.RejectedError)
// when they are not a posted lettering (letteringRefusal), when another
// reversal reversed it (ErrAlreadyReversed), or when a credit it put on
// account is already reconciled (ErrCreditUsed).
func (c *Client) reversible(ctx context.Context, r connectors.Reversal) ([]fullLine, map[int]moveLine, error) {
	orig, err := c.linesOf(ctx, [][]any{{"number", "=", r.Reverses}})
	if err != nil {
		return nil, nil, fmt.Errorf("unlettering %q: %w", r.Reverses, err)
	}
	if reason := letteringRefusal(orig, r.Reverses); reason != "" {
		return nil, nil, rejectReversal(r, reason, ErrNotLettered)
	}
	marker := reversalPrefix + r.Reverses + ":"
	others, err := c.linesOf(ctx, [][]any{{"description", "like", marker + "%"}, {"number", "!=", r.Key}})
	if err != nil {
		return nil, nil, fmt.Errorf("unlettering %q: %w", r.Reverses, err)
	}
	for _, l := range others {
		if strings.HasPrefix(l.Description, marker) {
			return nil, nil, rejectReversal(r, fmt.Sprintf("lettering %s was already reversed by %s", r.Reverses, l.Number), ErrAlreadyReversed)
		}
	}
	origMoves, err := c.moveLinesOf(ctx, orig)
	if err != nil {
		return nil, nil, fmt.Errorf("unlettering %q: %w", r.Reverses, err)
	}
	for _, l := range orig {
		if ml, ok := origMoves[l.ID]; ok && isOnAccountLine(l.Description) && ml.Reconciliation != nil {
			return nil, nil, rejectReversal(r, fmt.Sprintf("the %s put on account by %s is already reconciled in Tryton (reconciliation %d): undo that reconciliation first",
				l.Amount, r.Reverses, *ml.Reconciliation), ErrCreditUsed)
		}
	}
	return orig, origMoves, nil
}

// letteringRefusal says why the statement lines numbered reverses (orig)
// cannot be unlettered, "" when they can: there must be some, all posted,
// and one must settle an invoice or post something (not a reversal or a
// suspense line).
func letteringRefusal(orig []fullLine, reverses string) string {
	posted, lettering := len(orig) > 0, false
	for _, l := range orig {
		posted = posted && l.StmtRel.State == "posted"
		lettering = lettering || l.Invoice != nil || isPostingLine(l.Description)
	}
	switch {
	case len(orig) == 0:
		return fmt.Sprintf("the statement journal holds no lettering %s", reverses)
	case !posted:
		return fmt.Sprintf("lettering %s is not posted in Tryton", reverses)
	case !lettering:
		return fmt.Sprintf("%s settles no invoice and posts nothing (a reversal or a suspense line), so there is nothing to unletter", reverses)
	}
	return ""
}

// reversalDay is the day (UTC) of a reversal made at at.
func reversalDay(at time.Time) time.Time {
	at = at.UTC()
	return time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
}

// reversalDescription describes the mirror lines of r: "unletters
// <r.Reverses>:" and its reason, spaces folded.
func reversalDescription(r connectors.Reversal) string {
	desc := reversalPrefix + r.Reverses + ":"
	if reason := strings.Join(strings.Fields(r.Reason), " "); reason != "" {
		desc += " " + reason
	}
	return desc
}

// undoInvoices undoes the invoices' side of the lettering, once the mirror
// statement id is validated: its reconciliations (one call: Tryton's
// refusal deletes the statement and refuses the reversal), then its
// payment lines, invoice by invoice. Once the reconciliations are gone an
// error is retried (the next call deletes the statement and finds these
// steps done), never a rejection.
func (c *Client) undoInvoices(ctx context.Context, r connectors.Reversal, id int, orig []fullLine, origMoves map[int]moveLine) error {
	payments, recs := invoicePayments(orig, origMoves)
	if len(payments) != len(uniqueInvoices(orig)) {
		return fmt.Errorf("unlettering %q: %w", r.Reverses, fmt.Errorf("finding the moves of its lines: %w", ErrProtocol))
	}
	if len(recs) > 0 {
		if err := c.rpc.call(ctx, nil, once, "model.account.move.reconciliation.delete", recs); err != nil {
			return c.failMirror(ctx, r, id, fmt.Errorf("deleting reconciliations %v: %w", recs, err)) // one call: nothing changed
		}
	}
	invs := make([]int, 0, len(payments))
	for id := range payments {
		invs = append(invs, id)
	}
	sort.Ints(invs)
	for _, inv := range invs {
		if err := c.rpc.call(ctx, nil, read, "model.account.invoice.write", []int{inv},
			map[string]any{"payment_lines": []any{[]any{"remove", payments[inv]}}}); err != nil {
			return fmt.Errorf("unlettering %q: removing its payment lines from invoice %d: %w", r.Reverses, inv, err)
		}
	}
	return nil
}

// invoicePayments gives, for the lettering's lines that settle an invoice
// and have a move line, the payment lines of each invoice, and the
// reconciliations of those move lines (sorted, once each).
func invoicePayments(orig []fullLine, origMoves map[int]moveLine) (payments map[int][]int, recs []int) {
	seen := map[int]bool{}
	payments = map[int][]int{}
	for _, l := range orig {
		ml, ok := origMoves[l.ID]
		if l.Invoice == nil || !ok {
			continue
		}
		payments[*l.Invoice] = append(payments[*l.Invoice], ml.ID)
		if ml.Reconciliation != nil && !seen[*ml.Reconciliation] {
			seen[*ml.Reconciliation] = true
			recs = append(recs, *ml.Reconciliation)
		}
	}
	sort.Ints(recs)
	return payments, recs
}

func uniqueInvoices(lines []fullLine) map[int]bool {
	out := map[int]bool{}
	for _, l := range lines {
		if l.Invoice != nil {
			out[*l.Invoice] = true
		}
	}
	return out
}

// reconcileMirrors reconciles, per customer and account, the lettering's
// invoice and on-account lines with the lines of the reversal key that
// mirror them.
func (c *Client) reconcileMirrors(ctx context.Context, orig []fullLine, origMoves map[int]moveLine, key string, day time.Time) error {
	mine, err := c.linesOf(ctx, [][]any{{"number", "=", key}})
	if err != nil {
		return err
	}
	mineMoves, err := c.moveLinesOf(ctx, mine)
	if err != nil {
		return err
	}
	type group struct{ account, party int }
	groups := map[group][]int{}
	for _, l := range orig {
		if l.Party != nil && (l.Invoice != nil || isOnAccountLine(l.Description)) {
			g := group{l.Account, *l.Party}
			groups[g] = append(groups[g], origMoves[l.ID].ID)
		}
	}
	for _, l := range mine {
		if l.Party == nil {
			continue
		}
		g := group{l.Account, *l.Party}
		if _, ok := groups[g]; !ok {
			continue
		}
		ml, ok := mineMoves[l.ID]
		if !ok {
			return fmt.Errorf("finding the move of reversal line %d: %w", l.ID, ErrProtocol)
		}
		groups[g] = append(groups[g], ml.ID)
	}
	keys := make([]group, 0, len(groups))
	for g := range groups {
		keys = append(keys, g)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].account != keys[j].account {
			return keys[i].account < keys[j].account
		}
		return keys[i].party < keys[j].party
	})
	var vals []map[string]any
	for _, g := range keys {
		vals = append(vals, map[string]any{"company": c.companyID, "date": Date{day},
			"lines": []any{[]any{"add", groups[g]}}})
	}
	if len(vals) == 0 {
		return nil
	}
	if err := c.rpc.call(ctx, nil, once, "model.account.move.reconciliation.create", vals); err != nil {
		return fmt.Errorf("reconciling the reversed lines with their mirrors: %w", err)
	}
	return nil
}

// mirrorLines are the lines of the reversal r of the lettering orig: each
// line mirrored (same party and account, opposite amount, no invoice). A
// line that moved cash from the suspense account puts it back there.
//
// When the transaction has a suspense line (Config.SuspenseAccount), the
// cash the lettering took from the bank stays in the bank and goes to the
// suspense account instead: the payment is an exception again, and its
// suspense line, already booked (for the remainder of an overpaid letter),
// will not be booked a second time by RecordExceptions. Without one the
// cash leaves the bank, and RecordExceptions books the whole payment on
// suspense when the pipeline hands it over again.
func (c *Client) mirrorLines(ctx context.Context, r connectors.Reversal, orig []fullLine, day time.Time, desc string) ([]lineValues, error) {
	excKey := ExceptionKey(r.Tx.Key)
	var lines []lineValues
	fromBank := domain.Amount{}
	for _, l := range orig {
		d := desc
		if c.suspenseAcc != 0 && l.Account == c.suspenseAcc {
			d += " back to " + suspenseMark(excKey)
		}
		lines = append(lines, lineValues{Number: r.Key, Date: Date{day}, Amount: Decimal{l.Amount.Neg()},
			Party: l.Party, Account: l.Account, Description: d})
		fromBank = fromBank.Add(l.Amount.Amount)
	}
	if c.suspenseAcc == 0 || r.Tx.Key == "" || fromBank.Sign() <= 0 {
		return lines, nil
	}
	booked, err := c.findLines(ctx, []string{excKey})
	if err != nil {
		return nil, err
	}
	for _, b := range booked {
		if b.StmtRel.State == "posted" {
			return append(lines, lineValues{Number: r.Key, Date: Date{day}, Amount: Decimal{fromBank},
				Account: c.suspenseAcc, Description: desc + " to " + suspenseMark(excKey)}), nil
		}
	}
	return lines, nil
}
