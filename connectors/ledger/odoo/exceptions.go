package odoo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/internal/failpoint"
	"github.com/lettrage/lettrage/connectors/internal/httpx"
	"github.com/lettrage/lettrage/domain"
)

var _ connectors.ExceptionSink = (*Client)(nil)

// ExceptionKey is the marker, derived from the transaction key txKey, that
// starts the payment_ref of the bank statement line holding that
// transaction's unlettered cash: fixed length, so that one marker is never
// the prefix of another, and stable, so that a replay finds the line
// instead of posting the cash again.
func ExceptionKey(txKey string) string {
	sum := sha256.Sum256([]byte(txKey))
	return memoPrefix + "exc-" + hex.EncodeToString(sum[:10])
}

// stLine is an account.bank.statement.line as read back.
type stLine struct {
	ID         int      `json:"id"`
	PaymentRef Text     `json:"payment_ref"`
	Amount     Number   `json:"amount"`
	Move       Many2one `json:"move_id"`
	Reconciled bool     `json:"is_reconciled"`
	Partner    Many2one `json:"partner_id"`
	EntryRef   Text     `json:"ref"` // its journal entry's ref (unlettering intents)
}

var stLineFields = []string{"payment_ref", "amount", "move_id", "is_reconciled", "partner_id", "ref"}

// likeEscape escapes the wildcards of an =like pattern.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// orDomain is the prefix-notation OR of terms.
func orDomain(terms [][]any) []any {
	var d []any
	for i := 0; i < len(terms)-1; i++ {
		d = append(d, "|")
	}
	for _, t := range terms {
		d = append(d, t)
	}
	return d
}

// statementLines returns, by ExceptionKey, the statement lines of the bank
// journal whose payment_ref starts with one of marks.
func (c *Client) statementLines(ctx context.Context, marks []string) (map[string]stLine, error) {
	out := map[string]stLine{}
	want := map[string]bool{}
	for _, m := range marks {
		want[m] = true
	}
	for start := 0; start < len(marks); start += 200 {
		chunk := marks[start:min(start+200, len(marks))]
		terms := make([][]any, len(chunk))
		for i, m := range chunk {
			terms[i] = []any{"payment_ref", "=like", likeEscape(m) + "%"}
		}
		searchDomain := append([]any{[]any{"journal_id", "=", c.journalID}}, orDomain(terms)...)
		var rows []stLine
		if err := c.execute(ctx, &rows, read, "account.bank.statement.line", "search_read", []any{searchDomain},
			map[string]any{"fields": stLineFields, "order": "id asc"}); err != nil {
			return nil, fmt.Errorf("searching bank statement lines: %w", err)
		}
		for _, r := range rows {
			ref := string(r.PaymentRef)
			if len(ref) < len(chunk[0]) {
				continue
			}
			m := ref[:len(chunk[0])]
			if want[m] {
				if _, dup := out[m]; !dup {
					out[m] = r
				}
			}
		}
	}
	return out, nil
}

// unallocated is the cash of an exception that no allocation took.
func unallocated(e connectors.Exception) domain.Amount {
	if e.Decision.Outcome == domain.Auto {
		return e.Decision.Excess
	}
	return e.Tx.Amount
}

// RecordExceptions writes, when Config.RecordExceptions is set, every
// unlettered booked credit not yet there as an account.bank.statement.line
// of the bank journal (Config.Journal): amount, date, payment_ref
// "<ExceptionKey(tx key)> <bank reference, payer, reason, references>",
// partner_name and account_number from the counterparty, and partner_id
// when every candidate belongs to one customer. Odoo posts the line on its
// journal's suspense account, so accountants find it in the bank
// reconciliation view; Apply settles that line, instead of registering a
// payment, when a later run letters the transaction.
//
// Lines are searched by their marker before any is created, and a create
// whose answer was lost is re-checked before it is sent again. Lines Odoo
// refuses for a business reason (a date before the lock date) come back as
// *connectors.RejectedError keyed by the transaction key; the others are
// written all the same. Transactions in another currency than the
// journal's are left to the exceptions files.
func (c *Client) RecordExceptions(ctx context.Context, exc []connectors.Exception) error {
	if !c.cfg.RecordExceptions || len(exc) == 0 {
		return nil
	}
	if err := c.setup(ctx); err != nil {
		return err
	}
	var entries []lineEntry
	seen := map[string]bool{}
	for _, e := range exc {
		en, ok := c.lineEntry(e.Tx, unallocated(e), exceptionText(e), knownPartner(e.Decision))
		if !ok || seen[en.mark] {
			continue
		}
		seen[en.mark] = true
		en.key = e.Tx.Key
		entries = append(entries, en)
	}
	refused, err := c.writeLines(ctx, entries)
	if err != nil {
		return fmt.Errorf("recording %d exceptions in Odoo: %w", len(entries), err)
	}
	if len(refused) > 0 {
		return fmt.Errorf("recording exceptions in Odoo, %d of %d refused: %w", len(refused), len(entries), errors.Join(refused...))
	}
	return nil
}

// lineEntry is a statement line to write, and the key its refusal carries.
type lineEntry struct {
	mark, key string
	vals      map[string]any
}

// lineEntry prepares the statement line holding amt of tx's cash; ok is
// false for what cannot go to the journal (not a booked credit, nothing
// left, no date, another currency).
func (c *Client) lineEntry(tx domain.Transaction, amt domain.Amount, text string, partner int) (lineEntry, bool) {
	if !tx.IsLetterable() || amt.Sign() <= 0 || (c.journalCcy != "" && tx.Currency != c.journalCcy) {
		return lineEntry{}, false
	}
	d := tx.BookingDate
	if d.IsZero() {
		d = tx.ValueDate
	}
	if d.IsZero() {
		return lineEntry{}, false
	}
	mark := ExceptionKey(tx.Key)
	vals := map[string]any{
		"journal_id":  c.journalID,
		"date":        d.Format(time.DateOnly),
		"amount":      json.Number(amt.String()),
		"payment_ref": mark + " " + text,
	}
	if n := tx.Counterparty.Name; n != "" {
		vals["partner_name"] = n
	}
	if a := tx.Counterparty.IBAN; a != "" {
		vals["account_number"] = a
	} else if a := tx.Counterparty.Account; a != "" {
		vals["account_number"] = a
	}
	if partner != 0 {
		vals["partner_id"] = partner
	}
	return lineEntry{mark: mark, vals: vals}, true
}

// writeLines creates the entries' statement lines not there yet, in one
// call; when Odoo refuses it for a business reason, one by one. refused
// holds a *connectors.RejectedError (Key = entry key) per line Odoo
// refused; err is any other failure.
func (c *Client) writeLines(ctx context.Context, entries []lineEntry) (refused []error, err error) {
	if len(entries) == 0 {
		return nil, nil
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].mark < entries[j].mark })
	marks := make([]string, len(entries))
	for i, e := range entries {
		marks[i] = e.mark
	}
	have, err := c.statementLines(ctx, marks)
	if err != nil {
		return nil, err
	}
	var todo []lineEntry
	for _, e := range entries {
		if _, ok := have[e.mark]; !ok {
			todo = append(todo, e)
		}
	}
	create := func(es []lineEntry) error {
		vals := make([]any, len(es))
		ms := make([]string, len(es))
		for i, e := range es {
			vals[i], ms[i] = e.vals, e.mark
		}
		// One create is one database transaction: all lines or none.
		recheck := func(ctx context.Context) (bool, error) {
			got, err := c.statementLines(ctx, ms)
			return err == nil && len(got) == len(ms), err
		}
		err := c.execute(ctx, nil, callOpts{recheck: recheck}, "account.bank.statement.line", "create", []any{vals}, nil)
		if errors.Is(err, httpx.ErrAlreadyDone) {
			return nil
		}
		return err
	}
	if len(todo) == 0 {
		return nil, nil
	}
	err = create(todo)
	if err == nil {
		failpoint.Crash(FailAfterLines)
		return nil, nil
	}
	var oe *Error
	if !errors.As(err, &oe) || !oe.Business() {
		return nil, err
	}
	// Odoo refused the batch: write each line alone so that one bad line
	// does not keep the others out.
	for _, e := range todo {
		if err := create([]lineEntry{e}); err != nil {
			if !errors.As(err, &oe) || !oe.Business() {
				return refused, fmt.Errorf("writing statement line %s: %w", e.mark, err)
			}
			refused = append(refused, &connectors.RejectedError{Key: e.key, Reason: oe.Message,
				Err: fmt.Errorf("writing statement line %s: %w", e.mark, err)})
		}
	}
	return refused, nil
}

// partnerValue is a many2one value: the id, or false for none.
func partnerValue(id int) any {
	if id == 0 {
		return false
	}
	return id
}

// knownPartner is the Odoo partner id of the decision's candidates when
// they all belong to one customer, else 0.
func knownPartner(d domain.Decision) int {
	id := 0
	for _, cd := range d.Candidates {
		n, err := strconv.Atoi(cd.CustomerID)
		if err != nil || n == 0 || (id != 0 && n != id) {
			return 0
		}
		id = n
	}
	return id
}

// exceptionText describes an unlettered transaction on its statement
// line: the bank reference, the reason and the payer's references.
func exceptionText(e connectors.Exception) string {
	parts := []string{e.Tx.Ref}
	if r := e.Decision.Reason; r != "" {
		parts = append(parts, "("+r+")")
	} else {
		parts = append(parts, "("+string(e.Decision.Outcome)+")")
	}
	for _, r := range e.Tx.Structured {
		parts = append(parts, r.Value)
	}
	parts = append(parts, e.Tx.Unstructured...)
	s := strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
	if r := []rune(s); len(r) > 400 {
		s = string(r[:400])
	}
	return s
}

// moveLine is an account.move.line as a settlement reads it.
type moveLine struct {
	ID         int      `json:"id"`
	Move       Many2one `json:"move_id"`
	Account    Many2one `json:"account_id"`
	Partner    Many2one `json:"partner_id"`
	Name       Text     `json:"name"`
	Balance    Number   `json:"balance"`
	Reconciled bool     `json:"reconciled"`
}

var moveLineFields = []string{"move_id", "account_id", "partner_id", "name", "balance", "reconciled"}

// settledLines returns, per decision key, the allocation numbers settled
// through a statement line: counterpart lines labelled with the
// allocation's memo and reconciled.
func (c *Client) settledLines(ctx context.Context, keys []string, paid map[string]map[int]bool, counts map[string]int) error {
	if !c.cfg.RecordExceptions {
		return nil
	}
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	for start := 0; start < len(keys); start += 200 {
		chunk := keys[start:min(start+200, len(keys))]
		terms := make([][]any, len(chunk))
		for i, k := range chunk {
			terms[i] = []any{"name", "=like", likeEscape(memoPrefix+k+":") + "%"}
		}
		searchDomain := append([]any{[]any{"journal_id", "=", c.journalID}, []any{"reconciled", "=", true}}, orDomain(terms)...)
		var rows []moveLine
		if err := c.execute(ctx, &rows, read, "account.move.line", "search_read", []any{searchDomain},
			map[string]any{"fields": moveLineFields}); err != nil {
			return fmt.Errorf("searching settled statement lines by decision key: %w", err)
		}
		for _, r := range rows {
			key, n, count, ok := parseMemo(string(r.Name))
			if !ok || !want[key] {
				continue
			}
			if paid[key] == nil {
				paid[key] = map[int]bool{}
			}
			paid[key][n] = true
			counts[key] = count
		}
	}
	return nil
}

// openLines returns, by transaction key, the statement lines Lettrage wrote
// for the decisions' transactions.
func (c *Client) openLines(ctx context.Context, batch []connectors.KeyedDecision) (map[string]stLine, error) {
	if !c.cfg.RecordExceptions || c.journalID == 0 {
		return nil, nil
	}
	byMark := map[string]string{}
	var marks []string
	for _, kd := range batch {
		m := ExceptionKey(kd.Tx.Key)
		if _, dup := byMark[m]; !dup {
			marks = append(marks, m)
		}
		byMark[m] = kd.Tx.Key
	}
	lines, err := c.statementLines(ctx, marks)
	if err != nil {
		return nil, err
	}
	out := map[string]stLine{}
	for m, l := range lines {
		out[byMark[m]] = l
	}
	return out, nil
}

// ErrLineReconciled is wrapped when the statement line holding a
// transaction's cash was reconciled in Odoo by someone else meanwhile.
var ErrLineReconciled = errors.New("the bank statement line was already reconciled in Odoo")

// ErrLineTooSmall is wrapped when a statement line holds less cash than a
// decision allocates.
var ErrLineTooSmall = errors.New("statement line holds less than the allocations")

// settle letters the decision's allocations through the statement line l
// that holds its cash, instead of registering payments (which would post
// the same cash a second time):
//
//  0. while the line still holds nothing but its bank and suspense items,
//     its payment_ref says it is lettered (instead of the exception's
//     reason) and its partner becomes the invoices' customer when they
//     have one (account.bank.statement.line.write, which rebuilds those
//     two items: it must come first);
//  1. one account.move.write on the line's journal entry replaces its
//     suspense item by one receivable item per allocation (the invoice's
//     account and partner, labelled with the allocation's memo, the
//     amount plus any write-off), one write-off item per write-off when a
//     write_off_account is set, and a suspense item for the cash left. The
//     entry is posted: Odoo allows removing its suspense item only with
//     force_delete in the context, as its own action_undo_reconciliation
//     does;
//  2. account.move.line.reconcile reconciles each labelled item with its
//     invoice's open receivable item.
//
// A replay finds the labelled items and only reconciles what is left.
func (c *Client) settle(ctx context.Context, kd connectors.KeyedDecision, l stLine, allocs []int) error {
	lines, err := c.entryItems(ctx, l)
	if err != nil {
		return err
	}
	labelled, suspense := labelledItems(lines, kd.Key, c.suspenseID)
	recvOf, err := c.openReceivables(ctx, kd, allocs)
	if err != nil {
		return err
	}
	if l.Reconciled && len(labelled) == 0 {
		return &ItemError{Key: kd.Key, ItemID: kd.Decision.Allocations[allocs[0]-1].ItemID,
			Err: fmt.Errorf("%w (statement line %d)", ErrLineReconciled, l.ID)}
	}
	if missing := unlabelled(allocs, labelled); len(missing) > 0 {
		if suspense == nil {
			return fmt.Errorf("settling statement line %d: no suspense item left: %w", l.ID, ErrProtocol)
		}
		if len(lines) == 2 && !l.Reconciled {
			if err := c.describeLettered(ctx, kd, l, recvOf); err != nil {
				return err
			}
		}
		if err := c.writeSettlement(ctx, kd, l, suspense, recvOf, missing); err != nil {
			return err
		}
		failpoint.Crash(FailAfterSettleWrite)
		if lines, err = c.entryItems(ctx, l); err != nil {
			return err
		}
		for n, ml := range labelledOnly(lines, kd.Key) {
			labelled[n] = ml
		}
	}
	return c.reconcileLabelled(ctx, kd, l, allocs, labelled, recvOf)
}

// entryItems reads the journal items of statement line l's entry, in
// order.
func (c *Client) entryItems(ctx context.Context, l stLine) ([]moveLine, error) {
	var lines []moveLine
	if err := c.execute(ctx, &lines, read, "account.move.line", "search_read",
		[]any{[]any{[]any{"move_id", "=", l.Move.ID}}}, map[string]any{"fields": moveLineFields, "order": "id asc"}); err != nil {
		return nil, fmt.Errorf("reading the journal items of statement line %d: %w", l.ID, err)
	}
	return lines, nil
}

// labelledItems sorts a statement line's journal items: those labelled
// with a memo of decision key, by allocation number, and the first of the
// others on the suspense account (nil when there is none).
func labelledItems(lines []moveLine, key string, suspenseID int) (map[int]moveLine, *moveLine) {
	var suspense *moveLine
	labelled := map[int]moveLine{}
	for i, ml := range lines {
		if k, n, _, ok := parseMemo(string(ml.Name)); ok && k == key {
			labelled[n] = ml
			continue
		}
		if ml.Account.ID == suspenseID && suspense == nil {
			suspense = &lines[i]
		}
	}
	return labelled, suspense
}

// labelledOnly is labelledItems's items labelled with a memo of key.
func labelledOnly(lines []moveLine, key string) map[int]moveLine {
	labelled, _ := labelledItems(lines, key, -1)
	return labelled
}

// unlabelled lists the allocation numbers of allocs without a labelled
// item, in order.
func unlabelled(allocs []int, labelled map[int]moveLine) []int {
	var missing []int
	for _, n := range allocs {
		if _, ok := labelled[n]; !ok {
			missing = append(missing, n)
		}
	}
	return missing
}

// openReceivables reads the open receivable item of each invoice the
// allocations allocs of kd pay, by invoice id (the first by id when an
// invoice has several); an invoice without one is an *ItemError
// (ErrItemNotOpen).
func (c *Client) openReceivables(ctx context.Context, kd connectors.KeyedDecision, allocs []int) (map[int]moveLine, error) {
	invs := map[int]bool{}
	var invIDs []int
	for _, n := range allocs {
		id, _ := strconv.Atoi(kd.Decision.Allocations[n-1].ItemID)
		if !invs[id] {
			invs[id] = true
			invIDs = append(invIDs, id)
		}
	}
	sort.Ints(invIDs)
	var recv []moveLine
	if err := c.execute(ctx, &recv, read, "account.move.line", "search_read", []any{[]any{
		[]any{"move_id", "in", invIDs}, []any{"account_type", "in", []string{"asset_receivable"}}, []any{"reconciled", "=", false}}},
		map[string]any{"fields": moveLineFields, "order": "id asc"}); err != nil {
		return nil, fmt.Errorf("reading the receivable items of invoices %v: %w", invIDs, err)
	}
	recvOf := map[int]moveLine{}
	for _, r := range recv {
		if _, ok := recvOf[r.Move.ID]; !ok {
			recvOf[r.Move.ID] = r
		}
	}
	for _, id := range invIDs {
		if _, ok := recvOf[id]; !ok {
			return nil, &ItemError{Key: kd.Key, ItemID: strconv.Itoa(id), Err: fmt.Errorf("no open receivable item: %w", ErrItemNotOpen)}
		}
	}
	return recvOf, nil
}

// writeSettlement writes, in one account.move.write on statement line l's
// entry, the items of the allocations missing (settlementCmds). One write
// is one transaction; a lost answer is re-checked by looking for the
// labelled items. Odoo's refusal is an *ItemError.
func (c *Client) writeSettlement(ctx context.Context, kd connectors.KeyedDecision, l stLine, suspense *moveLine,
	recvOf map[int]moveLine, missing []int) error {
	cmds, err := c.settlementCmds(kd, l, suspense, recvOf, missing)
	if err != nil {
		return err
	}
	count := len(kd.Decision.Allocations)
	recheck := func(ctx context.Context) (bool, error) {
		var ids []int
		err := c.execute(ctx, &ids, read, "account.move.line", "search", []any{[]any{
			[]any{"move_id", "=", l.Move.ID}, []any{"name", "=", memo(kd.Key, missing[0], count)}}}, nil)
		return len(ids) > 0, err
	}
	err = c.execute(ctx, nil, callOpts{recheck: recheck}, "account.move", "write", []any{[]int{l.Move.ID},
		map[string]any{"line_ids": cmds}}, map[string]any{"context": map[string]any{"skip_readonly_check": true, "force_delete": true}})
	if err != nil && !errors.Is(err, httpx.ErrAlreadyDone) {
		var oe *Error
		if errors.As(err, &oe) {
			return &ItemError{Key: kd.Key, ItemID: kd.Decision.Allocations[missing[0]-1].ItemID, Err: err}
		}
		return fmt.Errorf("settling statement line %d: %w", l.ID, err)
	}
	return nil
}

// settlementCmds are the line_ids commands that replace the suspense item
// of statement line l by one receivable item per allocation missing (the
// invoice's account and partner, labelled with the allocation's memo, the
// amount plus any write-off), one write-off item per write-off when a
// write_off_account is set, and a suspense item for the cash left (none
// when nothing is left). An allocation above the cash left is an
// *ItemError (ErrLineTooSmall).
func (c *Client) settlementCmds(kd connectors.KeyedDecision, l stLine, suspense *moveLine, recvOf map[int]moveLine, missing []int) ([]any, error) {
	count := len(kd.Decision.Allocations)
	left, err := suspense.Balance.Amount(domain.CurrencyDigits(kd.Tx.Currency))
	if err != nil {
		return nil, fmt.Errorf("reading statement line %d: %w", l.ID, err)
	}
	left = left.Neg() // the suspense item of a credit is a credit
	var cmds []any
	for _, n := range missing {
		a := kd.Decision.Allocations[n-1]
		id, _ := strconv.Atoi(a.ItemID)
		r := recvOf[id]
		wo := domain.Amount{}
		if c.writeOffID != 0 {
			wo = a.WriteOff
		}
		settled := a.Amount.Add(wo)
		if a.Amount.Cmp(left) > 0 {
			return nil, &ItemError{Key: kd.Key, ItemID: a.ItemID, Err: fmt.Errorf("%w (%s > %s)", ErrLineTooSmall, a.Amount, left)}
		}
		left = left.Sub(a.Amount)
		cmds = append(cmds, []any{0, 0, map[string]any{"account_id": r.Account.ID, "partner_id": partnerValue(r.Partner.ID),
			"name": memo(kd.Key, n, count), "balance": json.Number(settled.Neg().String())}})
		if !wo.IsZero() {
			cmds = append(cmds, []any{0, 0, map[string]any{"account_id": c.writeOffID, "partner_id": partnerValue(r.Partner.ID),
				"name": "Lettrage write-off " + kd.Tx.Ref, "balance": json.Number(wo.String())}})
		}
	}
	if left.IsZero() {
		return append([]any{[]any{2, suspense.ID}}, cmds...), nil
	}
	return append([]any{[]any{1, suspense.ID, map[string]any{"balance": json.Number(left.Neg().String())}}}, cmds...), nil
}

// reconcileLabelled reconciles each labelled item of allocs not
// reconciled yet with its invoice's open receivable item (recvOf). Once
// one item is reconciled (before, or now), an error wraps
// errSettledInPart; Odoo's refusal is an *ItemError.
func (c *Client) reconcileLabelled(ctx context.Context, kd connectors.KeyedDecision, l stLine, allocs []int,
	labelled map[int]moveLine, recvOf map[int]moveLine) error {
	var reconciled error // wraps errSettledInPart once one item is reconciled
	for _, n := range allocs {
		if ml, ok := labelled[n]; ok && ml.Reconciled {
			reconciled = errSettledInPart
		}
	}
	for _, n := range allocs {
		ml, ok := labelled[n]
		if !ok {
			return fmt.Errorf("settling statement line %d: allocation %d not written: %w", l.ID, n, ErrProtocol)
		}
		if ml.Reconciled {
			continue
		}
		id, _ := strconv.Atoi(kd.Decision.Allocations[n-1].ItemID)
		mlID := ml.ID
		recheck := func(ctx context.Context) (bool, error) {
			var rows []moveLine
			err := c.execute(ctx, &rows, read, "account.move.line", "search_read", []any{[]any{[]any{"id", "=", mlID}}},
				map[string]any{"fields": moveLineFields})
			return err == nil && len(rows) == 1 && rows[0].Reconciled, err
		}
		err := c.execute(ctx, nil, callOpts{recheck: recheck}, "account.move.line", "reconcile", []any{[]int{ml.ID, recvOf[id].ID}}, nil)
		if err != nil && !errors.Is(err, httpx.ErrAlreadyDone) {
			if reconciled != nil {
				err = fmt.Errorf("%w: %w", reconciled, err)
			}
			var oe *Error
			if errors.As(err, &oe) {
				return &ItemError{Key: kd.Key, ItemID: strconv.Itoa(id), Err: err}
			}
			return fmt.Errorf("reconciling statement line %d with invoice %d: %w", l.ID, id, err)
		}
		reconciled = errSettledInPart
	}
	return nil
}

// describeLettered rewrites the text of the statement line l, holding an
// exception until now, to say the transaction is lettered (keeping its
// marker and any unlettering marks), and gives it the customer of the
// invoices when they all have one. Nothing is written when both are right
// already, so a replay writes nothing.
func (c *Client) describeLettered(ctx context.Context, kd connectors.KeyedDecision, l stLine, recvOf map[int]moveLine) error {
	vals := map[string]any{}
	if ref := relabel(string(l.PaymentRef), ExceptionKey(kd.Tx.Key), letteredText(kd)); ref != string(l.PaymentRef) {
		vals["payment_ref"] = ref
	}
	partner := 0
	for _, r := range recvOf {
		if r.Partner.ID == 0 || partner != 0 && r.Partner.ID != partner {
			partner = 0
			break
		}
		partner = r.Partner.ID
	}
	if partner != 0 && partner != l.Partner.ID {
		vals["partner_id"] = partner
	}
	if len(vals) == 0 {
		return nil
	}
	if err := c.execute(ctx, nil, read, "account.bank.statement.line", "write", []any{[]int{l.ID}, vals}, nil); err != nil {
		var oe *Error
		if errors.As(err, &oe) && oe.Business() {
			return &ItemError{Key: kd.Key, ItemID: kd.Decision.Allocations[0].ItemID, Err: err}
		}
		return fmt.Errorf("describing statement line %d as lettered: %w", l.ID, err)
	}
	return nil
}

// relabel is the payment_ref ref with its text (between the marker and
// the first unlettering mark) replaced by text.
func relabel(ref, marker, text string) string {
	marks := ""
	if i := strings.Index(ref, lineMarkSep); i >= 0 {
		marks = ref[i:]
	}
	return marker + " " + text + marks
}

// errSettledInPart is wrapped by a settlement error raised after some of
// the decision's items were reconciled with their invoices.
var errSettledInPart = errors.New("other allocations of the decision were settled")
