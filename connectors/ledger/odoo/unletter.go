package odoo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/internal/failpoint"
	"github.com/lettrage/lettrage/connectors/internal/httpx"
)

var _ connectors.Unletterer = (*Client)(nil)

// ErrNotLettered is wrapped by the rejection of a reversal whose decision
// Odoo holds no live payment or settled statement line of.
var ErrNotLettered = errors.New("no such lettering to reverse in Odoo")

// ErrAlreadyReversed is wrapped by the rejection of a reversal whose
// decision was already reversed under another key.
var ErrAlreadyReversed = errors.New("lettering already reversed in Odoo")

// unletterMark is appended to the memo of a payment the reversal key
// cancelled: "lettrage:<decision>:<n>/<m> unlettered by <key>".
func unletterMark(key string) string { return " unlettered by " + key }

// lineMarkSep starts every mark lineMark appends.
const lineMarkSep = " | unlettered "

// lineMark is appended to the payment_ref of a statement line whose
// settlement the reversal key undid.
func lineMark(reverses, key string) string {
	return lineMarkSep + reverses + " by " + key + ";"
}

// mark is one reversal recorded on a statement line.
type mark struct{ reverses, by string }

// lineMarks parses the marks lineMark appended to a payment_ref, in order.
func lineMarks(ref string) []mark { return parseMarks(ref, lineMarkSep) }

// intentMarks parses the marks intentMark appended to an entry's ref.
func intentMarks(ref string) []mark { return parseMarks(ref, intentSep) }

// parseMarks parses "<sep><reverses> by <key>;" marks, in order.
func parseMarks(ref, sep string) []mark {
	parts := strings.Split(ref, sep)
	var out []mark
	for _, p := range parts[1:] {
		body, _, ok := strings.Cut(p, ";")
		if !ok {
			continue
		}
		i := strings.LastIndex(body, " by ")
		if i <= 0 || i+len(" by ") == len(body) {
			continue
		}
		out = append(out, mark{reverses: body[:i], by: body[i+len(" by "):]})
	}
	return out
}

type payRow struct {
	ID    int
	Memo  string
	State string
}

// paymentsLike returns the payments whose memo matches the =like pattern.
func (c *Client) paymentsLike(ctx context.Context, pattern string) ([]payRow, error) {
	var rows []map[string]json.RawMessage
	if err := c.execute(ctx, &rows, read, "account.payment", "search_read",
		[]any{[]any{[]any{c.memoField, "=like", pattern}}},
		map[string]any{"fields": []string{c.memoField, "state"}, "order": "id asc"}); err != nil {
		return nil, fmt.Errorf("searching payments: %w", err)
	}
	out := make([]payRow, 0, len(rows))
	for _, r := range rows {
		var p payRow
		var m Text
		_ = json.Unmarshal(r["id"], &p.ID)
		_ = json.Unmarshal(r[c.memoField], &m)
		_ = json.Unmarshal(r["state"], &p.State)
		p.Memo = string(m)
		out = append(out, p)
	}
	return out, nil
}

func cancelled(state string) bool {
	return state == "cancel" || state == "canceled" || state == "rejected"
}

// Unletter reverses the lettering r.Reverses in Odoo, so that its invoices'
// amount_residual comes back:
//
//   - each payment registered for it (memo "lettrage:<r.Reverses>:n/m") is
//     reset to draft with action_draft (which removes its reconciliation
//     with the invoice), marked by appending " unlettered by <r.Key>" to
//     its memo, then cancelled with action_cancel — on-account postings
//     alike;
//   - each write-off entry it posted is reset to draft with button_draft,
//     its ref marked the same way, then cancelled with button_cancel;
//   - each statement line it settled is undone in three steps: the ref of
//     its journal entry gets " | unlettering <r.Reverses> by <r.Key>;" (the
//     intent, which Odoo lets one write on a reconciled entry), then
//     action_undo_reconciliation puts the line's whole cash back on the
//     journal's suspense account, then its payment_ref gets " | unlettered
//     <r.Reverses> by <r.Key>;" (Odoo refuses that while the line is
//     reconciled: "You cannot do this modification on a reconciled journal
//     entry"). The transaction is an open statement line again, as before
//     it was lettered. A run that dies after the undo leaves the intent:
//     the next call finds the line by it and finishes.
//
// Idempotent under r.Key: every step is checked before it is made, a call
// whose answer was lost is re-checked, and Applied reports r.Key once every
// payment is cancelled and every statement line is undone. A decision Odoo
// holds nothing of (ErrNotLettered), one already reversed under another key
// (ErrAlreadyReversed), and Odoo's own refusals (a lock date) are rejected
// with a *connectors.RejectedError; Partial says some of it was undone.
func (c *Client) Unletter(ctx context.Context, r connectors.Reversal) error {
	if r.Key == "" || r.Reverses == "" {
		return fmt.Errorf("unlettering %q: %w", r.Tx.Ref, errors.New("the reversal needs a key and the key of the decision it reverses"))
	}
	if err := c.setup(ctx); err != nil {
		return err
	}
	u := &unlettering{r: r}
	pays, err := c.docsLike(ctx, likeEscape(memoPrefix+r.Reverses+":")+"%")
	if err != nil {
		return u.fail(err)
	}
	mark := unletterMark(r.Key)
	mine, live, otherKey := sortReversed(pays, r.Reverses, mark)
	lines, err := c.linesToUndo(ctx, r)
	if err != nil {
		return u.fail(err)
	}
	for _, p := range mine {
		if !cancelled(p.State) {
			live = append(live, p) // marked by a run that died before cancelling
		}
	}
	if len(live) == 0 && len(lines) == 0 {
		return c.nothingToUndo(ctx, u, len(mine) > 0, otherKey)
	}
	sort.SliceStable(live, func(i, j int) bool {
		return live[i].model > live[j].model || live[i].model == live[j].model && live[i].ID < live[j].ID
	})
	for _, p := range live {
		if err := c.cancelDoc(ctx, p, mark); err != nil {
			return u.fail(err)
		}
		u.undone = true
	}
	for _, l := range lines {
		if err := c.undoLine(ctx, l, r.Reverses, r.Key); err != nil {
			return u.fail(err)
		}
		u.undone = true
	}
	return nil
}

// unlettering is one Unletter's reversal and whether something of it was
// undone yet (a refusal's Partial).
type unlettering struct {
	r      connectors.Reversal
	undone bool
}

// reject is the reversal refused for reason, cause wrapped in a
// *connectors.RejectedError.
func (u *unlettering) reject(reason string, cause error) error {
	return fmt.Errorf("unlettering %q: %w", u.r.Reverses,
		&connectors.RejectedError{Key: u.r.Key, Reason: reason, Err: cause, Partial: u.undone})
}

// fail is err located in the reversal: refused when it is a business
// refusal (refusal), an error otherwise.
func (u *unlettering) fail(err error) error {
	if refusal(err) {
		return u.reject(reasonOf(err), err)
	}
	return fmt.Errorf("unlettering %q: %w", u.r.Reverses, err)
}

// sortReversed sorts the payments and write-off entries found for the
// memos of decision reverses: mine, marked unlettered by this reversal
// (mark); live, not marked and not cancelled; and otherKey, the key of
// another reversal that marked one (the last found).
func sortReversed(pays []doc, reverses, mark string) (mine, live []doc, otherKey string) {
	for _, p := range pays {
		base, marked := p.Memo, ""
		if i := strings.Index(p.Memo, " unlettered by "); i >= 0 {
			base, marked = p.Memo[:i], p.Memo[i:]
		}
		key, _, _, ok := parseMemoText(base)
		if !ok || key != reverses {
			continue
		}
		switch {
		case marked == mark:
			mine = append(mine, p)
		case marked != "":
			otherKey = strings.TrimPrefix(marked, " unlettered by ")
		case !cancelled(p.State):
			live = append(live, p)
		}
	}
	return mine, live, otherKey
}

// linesToUndo reads the statement lines r.Reverses settled, and those this
// reversal began to undo (intent written) and did not finish (payment_ref
// not marked): a run died in between.
func (c *Client) linesToUndo(ctx context.Context, r connectors.Reversal) ([]stLine, error) {
	lines, err := c.settledStatementLines(ctx, r.Reverses)
	if err != nil {
		return nil, err
	}
	begun, err := c.unfinishedLines(ctx, r.Reverses, r.Key)
	if err != nil {
		return nil, err
	}
	for _, l := range begun {
		if !containsLine(lines, l.ID) {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// nothingToUndo decides on a reversal that finds nothing left to undo:
// done before (by this reversal: its payments marked, mine, or its lines
// undone), refused when another reversal did it (ErrAlreadyReversed,
// otherKey or a line's mark) or when Odoo holds nothing of the lettering
// (ErrNotLettered).
func (c *Client) nothingToUndo(ctx context.Context, u *unlettering, mine bool, otherKey string) error {
	doneHere, other, err := c.undoneLines(ctx, u.r.Reverses, u.r.Key)
	if err != nil {
		return u.fail(err)
	}
	if otherKey == "" {
		otherKey = other
	}
	switch {
	case mine || doneHere:
		return nil // done before
	case otherKey != "":
		return u.reject(fmt.Sprintf("lettering %s was already reversed by %s", u.r.Reverses, otherKey), ErrAlreadyReversed)
	default:
		return u.reject(fmt.Sprintf("Odoo holds no payment or settled statement line of lettering %s", u.r.Reverses), ErrNotLettered)
	}
}

func containsLine(lines []stLine, id int) bool {
	for _, l := range lines {
		if l.ID == id {
			return true
		}
	}
	return false
}

// cancelDoc undoes a payment (cancelPayment) or a write-off entry
// (cancelEntry).
func (c *Client) cancelDoc(ctx context.Context, d doc, mark string) error {
	if d.model == "account.move" {
		return c.cancelEntry(ctx, d, mark)
	}
	return c.cancelPayment(ctx, payRow{ID: d.ID, Memo: d.Memo, State: d.State}, mark)
}

// cancelEntry resets a write-off entry to draft (button_draft), marks its
// ref and cancels it (button_cancel), each step only when not done yet.
func (c *Client) cancelEntry(ctx context.Context, d doc, mark string) error {
	state := func(ctx context.Context) (string, error) {
		rows, err := c.entriesLike(ctx, []string{likeEscape(strings.TrimSuffix(d.Memo, mark)) + "%"})
		if err != nil {
			return "", err
		}
		for _, r := range rows {
			if r.ID == d.ID {
				return r.State, nil
			}
		}
		return "", fmt.Errorf("journal entry %d vanished: %w", d.ID, ErrNotFound)
	}
	if d.State != "draft" {
		recheck := func(ctx context.Context) (bool, error) {
			s, err := state(ctx)
			return s == "draft", err
		}
		err := c.execute(ctx, nil, callOpts{recheck: recheck}, "account.move", "button_draft", []any{[]int{d.ID}}, nil)
		if err != nil && !errors.Is(err, httpx.ErrAlreadyDone) {
			return fmt.Errorf("resetting journal entry %d (%s) to draft: %w", d.ID, d.Memo, err)
		}
	}
	if !strings.HasSuffix(d.Memo, mark) {
		if err := c.execute(ctx, nil, read, "account.move", "write", []any{[]int{d.ID},
			map[string]any{"ref": d.Memo + mark}}, nil); err != nil {
			return fmt.Errorf("marking journal entry %d (%s): %w", d.ID, d.Memo, err)
		}
		d.Memo += mark
	}
	recheck := func(ctx context.Context) (bool, error) {
		s, err := state(ctx)
		return cancelled(s), err
	}
	err := c.execute(ctx, nil, callOpts{recheck: recheck}, "account.move", "button_cancel", []any{[]int{d.ID}}, nil)
	if err != nil && !errors.Is(err, httpx.ErrAlreadyDone) {
		return fmt.Errorf("cancelling journal entry %d (%s): %w", d.ID, d.Memo, err)
	}
	return nil
}

// cancelPayment resets p to draft, marks its memo and cancels it, each step
// only when not done yet.
func (c *Client) cancelPayment(ctx context.Context, p payRow, mark string) error {
	state := func(ctx context.Context) (string, error) {
		rows, err := c.paymentsLike(ctx, likeEscape(strings.TrimSuffix(p.Memo, mark))+"%")
		if err != nil {
			return "", err
		}
		for _, r := range rows {
			if r.ID == p.ID {
				return r.State, nil
			}
		}
		return "", fmt.Errorf("payment %d vanished: %w", p.ID, ErrNotFound)
	}
	if p.State != "draft" {
		recheck := func(ctx context.Context) (bool, error) {
			s, err := state(ctx)
			return s == "draft", err
		}
		err := c.execute(ctx, nil, callOpts{recheck: recheck}, "account.payment", "action_draft", []any{[]int{p.ID}}, nil)
		if err != nil && !errors.Is(err, httpx.ErrAlreadyDone) {
			return fmt.Errorf("resetting payment %d (%s) to draft: %w", p.ID, p.Memo, err)
		}
	}
	if !strings.HasSuffix(p.Memo, mark) {
		if err := c.execute(ctx, nil, read, "account.payment", "write", []any{[]int{p.ID},
			map[string]any{c.memoField: p.Memo + mark}}, nil); err != nil {
			return fmt.Errorf("marking payment %d (%s): %w", p.ID, p.Memo, err)
		}
		p.Memo += mark
	}
	recheck := func(ctx context.Context) (bool, error) {
		s, err := state(ctx)
		return cancelled(s), err
	}
	err := c.execute(ctx, nil, callOpts{recheck: recheck}, "account.payment", "action_cancel", []any{[]int{p.ID}}, nil)
	if err != nil && !errors.Is(err, httpx.ErrAlreadyDone) {
		return fmt.Errorf("cancelling payment %d (%s): %w", p.ID, p.Memo, err)
	}
	return nil
}

// settledStatementLines returns the statement lines of the journal that
// hold items labelled with a memo of decision key.
func (c *Client) settledStatementLines(ctx context.Context, key string) ([]stLine, error) {
	if !c.cfg.RecordExceptions || c.journalID == 0 {
		return nil, nil
	}
	var items []moveLine
	if err := c.execute(ctx, &items, read, "account.move.line", "search_read", []any{[]any{
		[]any{"journal_id", "=", c.journalID}, []any{"name", "=like", likeEscape(memoPrefix+key+":") + "%"}}},
		map[string]any{"fields": moveLineFields, "order": "id asc"}); err != nil {
		return nil, fmt.Errorf("searching statement lines settled by %q: %w", key, err)
	}
	seen := map[int]bool{}
	var moves []int
	for _, it := range items {
		if k, _, _, ok := parseMemo(string(it.Name)); !ok || k != key {
			continue
		}
		if !seen[it.Move.ID] {
			seen[it.Move.ID] = true
			moves = append(moves, it.Move.ID)
		}
	}
	if len(moves) == 0 {
		return nil, nil
	}
	var lines []stLine
	if err := c.execute(ctx, &lines, read, "account.bank.statement.line", "search_read",
		[]any{[]any{[]any{"move_id", "in", moves}}}, map[string]any{"fields": stLineFields, "order": "id asc"}); err != nil {
		return nil, fmt.Errorf("reading statement lines settled by %q: %w", key, err)
	}
	return lines, nil
}

// intentSep starts every mark intentMark writes.
const intentSep = " | unlettering "

// intentMark is appended to the ref of the journal entry of a statement
// line before the reversal key undoes its settlement of reverses.
func intentMark(reverses, key string) string {
	return intentSep + reverses + " by " + key + ";"
}

// unfinishedLines returns the statement lines whose entry carries the
// intent of key to undo reverses and whose payment_ref does not carry the
// mark of it done.
func (c *Client) unfinishedLines(ctx context.Context, reverses, key string) ([]stLine, error) {
	if !c.cfg.RecordExceptions || c.journalID == 0 {
		return nil, nil
	}
	var lines []stLine
	if err := c.execute(ctx, &lines, read, "account.bank.statement.line", "search_read", []any{[]any{
		[]any{"journal_id", "=", c.journalID}, []any{"ref", "=like", "%" + likeEscape(intentMark(reverses, key)) + "%"}}},
		map[string]any{"fields": stLineFields, "order": "id asc"}); err != nil {
		return nil, fmt.Errorf("searching statement lines being unlettered from %q: %w", reverses, err)
	}
	var out []stLine
	for _, l := range lines {
		if !strings.Contains(string(l.PaymentRef), lineMark(reverses, key)) {
			out = append(out, l)
		}
	}
	return out, nil
}

// undoneLines looks for statement lines whose settlement of reverses was
// undone: mine is true when key undid one, other names another key that did.
func (c *Client) undoneLines(ctx context.Context, reverses, key string) (mine bool, other string, err error) {
	if !c.cfg.RecordExceptions || c.journalID == 0 {
		return false, "", nil
	}
	var lines []stLine
	if err := c.execute(ctx, &lines, read, "account.bank.statement.line", "search_read", []any{[]any{
		[]any{"journal_id", "=", c.journalID}, "|",
		[]any{"payment_ref", "=like", "%" + likeEscape(lineMarkSep+reverses+" by ") + "%"},
		[]any{"ref", "=like", "%" + likeEscape(intentSep+reverses+" by ") + "%"}}},
		map[string]any{"fields": stLineFields}); err != nil {
		return false, "", fmt.Errorf("searching statement lines unlettered from %q: %w", reverses, err)
	}
	for _, l := range lines {
		// A reversal in progress (its intent only) counts as another's.
		for _, m := range append(lineMarks(string(l.PaymentRef)), intentMarks(string(l.EntryRef))...) {
			switch {
			case m.reverses != reverses:
			case m.by == key:
				mine = mine || strings.Contains(string(l.PaymentRef), lineMark(reverses, key))
			case other == "":
				other = m.by
			}
		}
	}
	return mine, other, nil
}

// undoLine undoes the settlement of reverses on the statement line l for
// the reversal key: the intent on its entry's ref, then Odoo's
// action_undo_reconciliation, then the mark on its payment_ref; each step
// only when not done yet.
func (c *Client) undoLine(ctx context.Context, l stLine, reverses, key string) error {
	var entry []struct {
		Ref Text `json:"ref"`
	}
	if err := c.execute(ctx, &entry, read, "account.move", "read", []any{[]int{l.Move.ID}},
		map[string]any{"fields": []string{"ref"}}); err != nil {
		return fmt.Errorf("reading the entry of statement line %d: %w", l.ID, err)
	}
	if len(entry) != 1 {
		return fmt.Errorf("reading the entry of statement line %d: %w", l.ID, ErrNotFound)
	}
	intent := intentMark(reverses, key)
	if ref := string(entry[0].Ref); !strings.Contains(ref, intent) {
		if err := c.execute(ctx, nil, read, "account.move", "write", []any{[]int{l.Move.ID},
			map[string]any{"ref": ref + intent}}, nil); err != nil {
			return fmt.Errorf("marking the entry of statement line %d: %w", l.ID, err)
		}
	}
	var items []int
	if err := c.execute(ctx, &items, read, "account.move.line", "search", []any{[]any{
		[]any{"move_id", "=", l.Move.ID}, []any{"name", "=like", likeEscape(memoPrefix+reverses+":") + "%"}}}, nil); err != nil {
		return fmt.Errorf("checking statement line %d: %w", l.ID, err)
	}
	if len(items) > 0 {
		// Odoo's own undo: unreconciles the line's items and rebuilds its
		// bank and suspense items. Repeating it is harmless.
		if err := c.execute(ctx, nil, read, "account.bank.statement.line", "action_undo_reconciliation", []any{[]int{l.ID}}, nil); err != nil {
			return fmt.Errorf("undoing the reconciliation of statement line %d: %w", l.ID, err)
		}
		failpoint.Crash(FailUnletterAfterUndo)
	}
	if mark := lineMark(reverses, key); !strings.Contains(string(l.PaymentRef), mark) {
		if err := c.execute(ctx, nil, read, "account.bank.statement.line", "write", []any{[]int{l.ID},
			map[string]any{"payment_ref": string(l.PaymentRef) + mark}}, nil); err != nil {
			return fmt.Errorf("marking statement line %d: %w", l.ID, err)
		}
	}
	return nil
}

// reversalsDone adds to out the reversal keys among keys whose reversal is
// complete: every payment it marked is cancelled and their number is the
// count of the reversed decision, and every statement line it marked holds
// no item of the reversed decision any more. Keys are looked up 200 per
// call.
func (c *Client) reversalsDone(ctx context.Context, keys []string, out map[string]bool) error {
	var todo []string
	for _, k := range keys {
		if !out[k] {
			todo = append(todo, k)
		}
	}
	for start := 0; start < len(todo); start += 200 {
		chunk := todo[start:min(start+200, len(todo))]
		if err := c.reversalsDoneChunk(ctx, chunk, out); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) reversalsDoneChunk(ctx context.Context, keys []string, out map[string]bool) error {
	want := map[string]bool{}
	terms := make([][]any, len(keys))
	for i, k := range keys {
		want[k] = true
		terms[i] = []any{c.memoField, "=like", "%" + likeEscape(unletterMark(k))}
	}
	var rows []map[string]json.RawMessage
	if err := c.execute(ctx, &rows, read, "account.payment", "search_read", []any{orDomain(terms)},
		map[string]any{"fields": []string{c.memoField, "state"}}); err != nil {
		return fmt.Errorf("searching payments unlettered: %w", err)
	}
	if c.entriesEnabled() {
		patterns := make([]string, len(keys))
		for i, k := range keys {
			patterns[i] = "%" + likeEscape(unletterMark(k))
		}
		entries, err := c.entriesLike(ctx, patterns)
		if err != nil {
			return fmt.Errorf("searching write-off entries unlettered: %w", err)
		}
		for _, e := range entries {
			ref, _ := json.Marshal(e.Memo)
			state, _ := json.Marshal(e.State)
			rows = append(rows, map[string]json.RawMessage{c.memoField: ref, "state": state})
		}
	}
	type progress struct {
		found, done bool
		ns          map[int]bool
		count       int
	}
	st := map[string]*progress{}
	get := func(k string) *progress {
		if st[k] == nil {
			st[k] = &progress{done: true, ns: map[int]bool{}}
		}
		return st[k]
	}
	for _, r := range rows {
		var m Text
		var state string
		_ = json.Unmarshal(r[c.memoField], &m)
		_ = json.Unmarshal(r["state"], &state)
		base, by, ok := strings.Cut(string(m), " unlettered by ")
		_, n, count, valid := parseMemoText(base)
		if !ok || !valid || !want[by] {
			continue
		}
		p := get(by)
		p.found = true
		p.ns[n], p.count = true, count
		p.done = p.done && cancelled(state)
	}
	for _, p := range st {
		if len(p.ns) != p.count {
			p.done = false
		}
	}
	if c.cfg.RecordExceptions && c.journalID != 0 {
		terms = terms[:0]
		for _, k := range keys {
			terms = append(terms, []any{"payment_ref", "=like", "% by " + likeEscape(k) + ";%"},
				[]any{"ref", "=like", "% by " + likeEscape(k) + ";%"})
		}
		domain := append([]any{[]any{"journal_id", "=", c.journalID}}, orDomain(terms)...)
		var lines []stLine
		if err := c.execute(ctx, &lines, read, "account.bank.statement.line", "search_read", []any{domain},
			map[string]any{"fields": stLineFields}); err != nil {
			return fmt.Errorf("searching statement lines unlettered: %w", err)
		}
		for _, l := range lines {
			// Begun (intent on the entry) but not marked done on the line:
			// a run died between the undo and the mark.
			for _, m := range intentMarks(string(l.EntryRef)) {
				if want[m.by] && !strings.Contains(string(l.PaymentRef), lineMark(m.reverses, m.by)) {
					p := get(m.by)
					p.found, p.done = true, false
				}
			}
			for _, m := range lineMarks(string(l.PaymentRef)) {
				if !want[m.by] {
					continue
				}
				p := get(m.by)
				p.found = true
				var ids []int
				if err := c.execute(ctx, &ids, read, "account.move.line", "search", []any{[]any{
					[]any{"move_id", "=", l.Move.ID}, []any{"name", "=like", likeEscape(memoPrefix+m.reverses+":") + "%"}}}, nil); err != nil {
					return fmt.Errorf("checking statement line %d: %w", l.ID, err)
				}
				p.done = p.done && len(ids) == 0
			}
		}
	}
	for k, p := range st {
		if p.found && p.done {
			out[k] = true
		}
	}
	return nil
}
