package odoo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/internal/httpx"
	"github.com/lettrage/lettrage/domain"
)

// Postings: cash of a decision booked without an invoice.
//
// A decision with A allocations and P postings writes A+P documents, memo
// "lettrage:<key>:<n>/<A+P>", allocations first (n = 1…A), then postings
// (n = A+1…A+P); a posting's memo carries a label after the canonical
// part ("… on account", "… write-off: <reason>").
//
//   - domain.OnAccount is an account.payment (payment_type inbound,
//     partner_type customer, partner_id the customer, the exact amount, the
//     transaction's date, Config.Journal) created and posted with
//     action_post, and never reconciled: its receivable line is an
//     outstanding credit of the customer, which Odoo offers on the
//     customer's next invoices.
//   - domain.WriteOffPosting is a journal entry (account.move, move_type
//     entry) in Config.Journal: the cash on the journal's outstanding
//     receipts account (where payments put it, so the bank statement line
//     is matched the same way), against Config.WriteOffAccount. Not an
//     account.payment: Odoo 16 and 17 refuse a payment whose counterpart is
//     not a receivable or payable account ("the journal items must include
//     one and only one receivable/payable account").

// onAccountLabel and writeOffLabel follow the canonical memo of a posting.
const (
	onAccountLabel = "on account"
	writeOffLabel  = "write-off: "
)

// postingMemo is the memo of the posting numbered n of count.
func postingMemo(key string, n, count int, p domain.Posting) string {
	m := memo(key, n, count)
	switch p.Kind {
	case domain.OnAccount:
		return m + " " + onAccountLabel
	case domain.WriteOffPosting:
		return m + " " + writeOffLabel + cleanReason(p.Reason)
	}
	return m
}

// cleanReason is the reason code on one line, short, and never mistaken
// for the mark a reversal appends.
func cleanReason(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, strings.TrimSpace(unletterMark("")), "unlettered-by")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	if s == "" {
		s = "-"
	}
	return s
}

// parseMemoText is parseMemo for a memo that may carry a label after its
// canonical part ("lettrage:k:2/2 write-off: R"). A memo a reversal
// marked is refused: cut the mark first.
func parseMemoText(m string) (key string, n, count int, ok bool) {
	if strings.Contains(m, unletterMark("")) {
		return "", 0, 0, false
	}
	if key, n, count, ok = parseMemo(m); ok {
		return key, n, count, true
	}
	for i := 0; i < len(m); i++ {
		if m[i] != ' ' {
			continue
		}
		if key, n, count, ok = parseMemo(m[:i]); ok {
			return key, n, count, true
		}
	}
	return "", 0, 0, false
}

// ErrWriteOffNotConfigured is wrapped by the rejection of a write-off
// posting when write_off_account or journal is not set.
var ErrWriteOffNotConfigured = errors.New("write-offs are not configured for the Odoo ledger")

// ErrRecordExceptionsPostings is wrapped by the rejection of a decision
// with postings when record_exceptions is set: the cash is already on a
// statement line, and a payment would post it a second time.
var ErrRecordExceptionsPostings = errors.New("postings are not written with record_exceptions")

// ErrBadPosting is wrapped by the rejection of a posting Lettrage cannot
// write: unknown kind, amount not positive, customer not an Odoo partner.
var ErrBadPosting = errors.New("posting cannot be written to Odoo")

// checkPostings returns, per decision key, why its postings cannot be
// written (nothing for decisions without postings or with good ones).
// Customers are checked to exist in one call.
func (c *Client) checkPostings(ctx context.Context, batch []connectors.KeyedDecision) (map[string]error, error) {
	out := map[string]error{}
	partnerOf := map[string][]int{}
	var ids []int
	seen := map[int]bool{}
	for _, kd := range batch {
		for _, p := range kd.Decision.Postings {
			var err error
			switch {
			case c.cfg.RecordExceptions:
				err = fmt.Errorf("%w: the transaction's cash is a bank statement line; reconcile it in Odoo", ErrRecordExceptionsPostings)
			case p.Amount.Sign() <= 0:
				err = fmt.Errorf("%w: %s amount %s is not positive", ErrBadPosting, p.Kind, p.Amount)
			case p.Kind == domain.OnAccount:
				id, aerr := strconv.Atoi(p.CustomerID)
				if aerr != nil || id <= 0 {
					err = fmt.Errorf("%w: customer %q is not an Odoo partner id", ErrBadPosting, p.CustomerID)
					break
				}
				partnerOf[kd.Key] = append(partnerOf[kd.Key], id)
				if !seen[id] {
					seen[id] = true
					ids = append(ids, id)
				}
			case p.Kind == domain.WriteOffPosting:
				switch {
				case c.writeOffID == 0:
					err = fmt.Errorf("%w: set write_off_account (an account code or id) in the Odoo ledger settings", ErrWriteOffNotConfigured)
				case c.journalID == 0:
					err = fmt.Errorf("%w: set journal (the bank journal) in the Odoo ledger settings", ErrWriteOffNotConfigured)
				}
			case p.Kind == domain.CashDiscountPosting:
				err = fmt.Errorf("%w: the Odoo ledger does not write cash discounts yet: leave matching.cash_discount unset "+
					"(the discount then stays open on the invoice)", ErrBadPosting)
			default:
				err = fmt.Errorf("%w: unknown kind %q", ErrBadPosting, p.Kind)
			}
			if err != nil {
				out[kd.Key] = err
				break
			}
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	var found []int
	if err := c.execute(ctx, &found, read, "res.partner", "search", []any{[]any{[]any{"id", "in", ids}}},
		map[string]any{"context": map[string]any{"active_test": false}}); err != nil {
		return nil, fmt.Errorf("checking the customers of on-account postings: %w", err)
	}
	exists := map[int]bool{}
	for _, id := range found {
		exists[id] = true
	}
	for key, ps := range partnerOf {
		for _, id := range ps {
			if !exists[id] && out[key] == nil {
				out[key] = fmt.Errorf("%w: customer %d: %w", ErrBadPosting, id, ErrNotFound)
			}
		}
	}
	return out, nil
}

// doc is an Odoo record carrying a Lettrage memo: a payment or a journal
// entry.
type doc struct {
	model string // account.payment or account.move
	ID    int
	Memo  string
	State string
}

// entriesEnabled says whether write-off entries can exist, so whether
// journal entries are searched by memo.
func (c *Client) entriesEnabled() bool { return c.writeOffID != 0 && c.journalID != 0 }

// entriesLike returns the write-off entries of the journal whose ref
// matches one of the =like patterns: journal entries that are not a
// payment's.
func (c *Client) entriesLike(ctx context.Context, patterns []string) ([]doc, error) {
	if !c.entriesEnabled() || len(patterns) == 0 {
		return nil, nil
	}
	terms := make([][]any, len(patterns))
	for i, p := range patterns {
		terms[i] = []any{"ref", "=like", p}
	}
	searchDomain := append([]any{[]any{"move_type", "=", "entry"}, []any{"journal_id", "=", c.journalID}}, orDomain(terms)...)
	var rows []struct {
		ID    int    `json:"id"`
		Ref   Text   `json:"ref"`
		State string `json:"state"`
	}
	if err := c.execute(ctx, &rows, read, "account.move", "search_read", []any{searchDomain},
		map[string]any{"fields": []string{"ref", "state"}, "order": "id asc"}); err != nil {
		return nil, fmt.Errorf("searching write-off entries: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	// A payment is an account.move too (_inherits), whose ref is the
	// payment's memo: leave payments' entries to the payments.
	ids := make([]int, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var pays []struct {
		Move Many2one `json:"move_id"`
	}
	if err := c.execute(ctx, &pays, read, "account.payment", "search_read", []any{[]any{[]any{"move_id", "in", ids}}},
		map[string]any{"fields": []string{"move_id"}, "context": map[string]any{"active_test": false}}); err != nil {
		return nil, fmt.Errorf("searching write-off entries: %w", err)
	}
	ofPayment := map[int]bool{}
	for _, p := range pays {
		ofPayment[p.Move.ID] = true
	}
	var out []doc
	for _, r := range rows {
		if !ofPayment[r.ID] {
			out = append(out, doc{model: "account.move", ID: r.ID, Memo: string(r.Ref), State: r.State})
		}
	}
	return out, nil
}

// docsLike returns the payments, then the write-off entries, whose memo
// matches the =like pattern.
func (c *Client) docsLike(ctx context.Context, pattern string) ([]doc, error) {
	pays, err := c.paymentsLike(ctx, pattern)
	if err != nil {
		return nil, err
	}
	out := make([]doc, 0, len(pays))
	for _, p := range pays {
		out = append(out, doc{model: "account.payment", ID: p.ID, Memo: p.Memo, State: p.State})
	}
	entries, err := c.entriesLike(ctx, []string{pattern})
	if err != nil {
		return nil, err
	}
	return append(out, entries...), nil
}

// findPosting returns the document written for posting n of key, if any
// (in any state but cancelled).
func (c *Client) findPosting(ctx context.Context, key string, n int) (doc, bool, error) {
	docs, err := c.docsLike(ctx, likeEscape(memoPrefix+key+":")+"%")
	if err != nil {
		return doc{}, false, err
	}
	for _, d := range docs {
		k, dn, _, ok := parseMemoText(d.Memo)
		if ok && k == key && dn == n && !cancelled(d.State) {
			return d, true, nil
		}
	}
	return doc{}, false, nil
}

// post writes posting n of count of the decision: creates its document
// unless a previous call did, then posts it unless it is posted. A call
// whose answer was lost is re-checked by memo before it is sent again.
func (c *Client) post(ctx context.Context, kd connectors.KeyedDecision, p domain.Posting, n, count int) error {
	text := postingMemo(kd.Key, n, count, p)
	d, found, err := c.findPosting(ctx, kd.Key, n)
	if err != nil {
		return err
	}
	if !found {
		model, vals, err := c.postingVals(ctx, kd, p, text)
		if err != nil {
			return err
		}
		recheck := func(ctx context.Context) (bool, error) {
			_, found, err := c.findPosting(ctx, kd.Key, n)
			return found, err
		}
		var id int
		err = c.execute(ctx, &id, callOpts{recheck: recheck}, model, "create", []any{vals}, nil)
		if err != nil && !errors.Is(err, httpx.ErrAlreadyDone) {
			return fmt.Errorf("writing posting %s: %w", text, err)
		}
		if d, found, err = c.findPosting(ctx, kd.Key, n); err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("writing posting %s: created but not found: %w", text, ErrProtocol)
		}
	}
	if d.State != "draft" {
		return nil
	}
	method := "action_post"
	recheck := func(ctx context.Context) (bool, error) {
		now, found, err := c.findPosting(ctx, kd.Key, n)
		return found && now.State != "draft", err
	}
	err = c.execute(ctx, nil, callOpts{recheck: recheck}, d.model, method, []any{[]int{d.ID}}, nil)
	if err != nil && !errors.Is(err, httpx.ErrAlreadyDone) {
		return fmt.Errorf("posting %s (%s %d): %w", text, d.model, d.ID, err)
	}
	return nil
}

// postingVals are the create values of the posting's document.
func (c *Client) postingVals(ctx context.Context, kd connectors.KeyedDecision, p domain.Posting, text string) (string, map[string]any, error) {
	date := kd.Tx.BookingDate
	if date.IsZero() {
		date = kd.Tx.ValueDate
	}
	if date.IsZero() {
		date = kd.DecidedAt
	}
	amount := json.Number(p.Amount.String()) // the exact decimal text, never a Go float
	switch p.Kind {
	case domain.OnAccount:
		partner, _ := strconv.Atoi(p.CustomerID) // checked by checkPostings
		vals := map[string]any{
			"payment_type": "inbound",
			"partner_type": "customer",
			"partner_id":   partner,
			"amount":       amount,
			"date":         date.Format(time.DateOnly),
			c.memoField:    text,
		}
		if c.journalID != 0 {
			vals["journal_id"] = c.journalID
		}
		return "account.payment", vals, nil
	case domain.WriteOffPosting:
		acc, err := c.outstandingAccount(ctx)
		if err != nil {
			return "", nil, err
		}
		return "account.move", map[string]any{
			"move_type":  "entry",
			"journal_id": c.journalID,
			"date":       date.Format(time.DateOnly),
			"ref":        text,
			"line_ids": []any{
				[]any{0, 0, map[string]any{"account_id": acc, "name": text, "balance": amount}},
				[]any{0, 0, map[string]any{"account_id": c.writeOffID, "name": text, "balance": json.Number(p.Amount.Neg().String())}},
			},
		}, nil
	}
	return "", nil, fmt.Errorf("%w: unknown kind %q", ErrBadPosting, p.Kind)
}

// ErrNoOutstandingAccount is wrapped when the journal has no outstanding
// receipts account for a write-off entry to put the cash on.
var ErrNoOutstandingAccount = errors.New("no outstanding receipts account")

// outstandingAccount is the account Odoo's inbound payments of the journal
// put the cash on (_compute_outstanding_account_id): the payment account
// of the journal's first inbound payment method line, else (Odoo 16–17)
// the company's account_journal_payment_debit_account_id. Read once.
func (c *Client) outstandingAccount(ctx context.Context) (int, error) {
	c.mu.Lock()
	id := c.outstandingID
	c.mu.Unlock()
	if id != 0 {
		return id, nil
	}
	var js []struct {
		Lines   []int    `json:"inbound_payment_method_line_ids"`
		Company Many2one `json:"company_id"`
	}
	if err := c.execute(ctx, &js, read, "account.journal", "read", []any{[]int{c.journalID}},
		map[string]any{"fields": []string{"inbound_payment_method_line_ids", "company_id"}}); err != nil {
		return 0, fmt.Errorf("reading the payment methods of journal %q: %w", c.cfg.Journal, err)
	}
	if len(js) == 1 && len(js[0].Lines) > 0 {
		var ls []struct {
			ID      int      `json:"id"`
			Account Many2one `json:"payment_account_id"`
		}
		if err := c.execute(ctx, &ls, read, "account.payment.method.line", "read", []any{js[0].Lines},
			map[string]any{"fields": []string{"payment_account_id"}}); err != nil {
			return 0, fmt.Errorf("reading the payment methods of journal %q: %w", c.cfg.Journal, err)
		}
		for _, l := range ls {
			if l.Account.ID != 0 {
				id = l.Account.ID
				break
			}
		}
	}
	if id == 0 && c.major <= 17 && len(js) == 1 && js[0].Company.ID != 0 {
		var cs []struct {
			Account Many2one `json:"account_journal_payment_debit_account_id"`
		}
		if err := c.execute(ctx, &cs, read, "res.company", "read", []any{[]int{js[0].Company.ID}},
			map[string]any{"fields": []string{"account_journal_payment_debit_account_id"}}); err != nil {
			return 0, fmt.Errorf("reading the outstanding receipts account: %w", err)
		}
		if len(cs) == 1 {
			id = cs[0].Account.ID
		}
	}
	if id == 0 {
		return 0, fmt.Errorf("journal %q: %w: set one on its inbound payment method", c.cfg.Journal, ErrNoOutstandingAccount)
	}
	c.mu.Lock()
	c.outstandingID = id
	c.mu.Unlock()
	return id, nil
}
