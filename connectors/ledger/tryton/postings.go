package tryton

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// Postings (domain.Posting) are cash of a decision booked without an
// invoice, on lines of the same statement as its allocations, numbered
// with the decision key:
//
//   - domain.OnAccount: a line with the customer's party and the party's
//     receivable account and no invoice. Posted, it is an unapplied credit
//     on the customer's receivable that the customer's later invoices can
//     be reconciled with in Tryton.
//   - domain.WriteOffPosting: a line on Config.WriteOffAccount without
//     party, described with the reason code. Without a write-off account
//     the decision is refused (ErrNoWriteOffAccount).
//
// Their descriptions start with postingPrefix(kind), which is how
// Unletter tells a posting line from a suspense or reversal line.

// ErrNoWriteOffAccount is wrapped by the rejection of a decision with a
// write-off posting when Config.WriteOffAccount is not set.
var ErrNoWriteOffAccount = errors.New("write_off_account is not configured in the Tryton ledger")

// ErrBadPosting is wrapped (in a *PostingError) when a posting cannot be
// written as it is: an unknown kind, a zero amount, a customer that is no
// Tryton party, or a party without receivable account.
var ErrBadPosting = errors.New("posting cannot be written to Tryton")

// PostingError locates a problem with one posting of a decision.
type PostingError struct {
	Key     string
	Posting domain.Posting
	Err     error
}

func (e *PostingError) Error() string {
	if e.Posting.CustomerID != "" {
		return fmt.Sprintf("decision %q, %s posting of %s for customer %s: %v", e.Key, e.Posting.Kind, e.Posting.Amount,
			e.Posting.CustomerID, e.Err)
	}
	return fmt.Sprintf("decision %q, %s posting of %s: %v", e.Key, e.Posting.Kind, e.Posting.Amount, e.Err)
}

func (e *PostingError) Unwrap() error { return e.Err }

// postingPrefix starts the description of a posting line of kind.
func postingPrefix(kind domain.PostingKind) string { return "lettrage " + string(kind) + ":" }

// isPostingLine reports whether a statement line's description is that of
// a posting written by Apply.
func isPostingLine(description string) bool {
	return strings.HasPrefix(description, postingPrefix(domain.OnAccount)) ||
		strings.HasPrefix(description, postingPrefix(domain.WriteOffPosting))
}

// isOnAccountLine reports whether a statement line is an on-account posting.
func isOnAccountLine(description string) bool {
	return strings.HasPrefix(description, postingPrefix(domain.OnAccount))
}

// postingText describes a posting line: its kind, the reason code, then
// the bank reference, the payer and the rule.
func postingText(p domain.Posting, kd connectors.KeyedDecision) string {
	parts := []string{postingPrefix(p.Kind)}
	if r := strings.Join(strings.Fields(p.Reason), " "); r != "" {
		parts = append(parts, r)
	}
	parts = append(parts, kd.Tx.Ref, kd.Tx.Counterparty.Name, kd.Decision.Rule)
	s := strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
	if r := []rune(s); len(r) > 500 {
		s = string(r[:500])
	}
	return s
}

// postingAccounts checks the postings of todo and returns the receivable
// account of every party credited on account. The decisions whose postings
// cannot be written come back as problems by decision key (a
// *PostingError each); nothing is written for them.
func (c *Client) postingAccounts(ctx context.Context, todo []connectors.KeyedDecision) (map[int]int, map[string]error, error) {
	problems := map[string]error{}
	parties := map[int]bool{}
	for _, kd := range todo {
		for _, p := range kd.Decision.Postings {
			if p.Kind != domain.OnAccount {
				continue
			}
			if id, err := strconv.Atoi(p.CustomerID); err == nil && id > 0 {
				parties[id] = true
			}
		}
	}
	accounts, err := c.receivables(ctx, parties)
	if err != nil {
		return nil, nil, err
	}
	for _, kd := range todo {
		for _, p := range kd.Decision.Postings {
			if err := c.checkPosting(p, accounts); err != nil {
				problems[kd.Key] = &PostingError{Key: kd.Key, Posting: p, Err: err}
				break
			}
		}
	}
	return accounts, problems, nil
}

// checkPosting says why p cannot be written, or nil.
func (c *Client) checkPosting(p domain.Posting, accounts map[int]int) error {
	if p.Amount.IsZero() {
		return fmt.Errorf("%w: the amount is zero", ErrBadPosting)
	}
	switch p.Kind {
	case domain.OnAccount:
		id, err := strconv.Atoi(p.CustomerID)
		if err != nil || id <= 0 {
			return fmt.Errorf("%w: customer %q is not a Tryton party id", ErrBadPosting, p.CustomerID)
		}
		acc, found := accounts[id]
		switch {
		case !found:
			return fmt.Errorf("%w: party %d: %w", ErrBadPosting, id, ErrNotFound)
		case acc == 0:
			return fmt.Errorf("%w: party %d has no receivable account (set it on the party or a default in the accounting configuration)",
				ErrBadPosting, id)
		}
	case domain.WriteOffPosting:
		if c.writeOffAcc == 0 {
			return fmt.Errorf("%w: set write_off_account (the account write-offs are booked to) to post write-offs", ErrNoWriteOffAccount)
		}
	case domain.CashDiscountPosting:
		return fmt.Errorf("%w: the Tryton ledger does not write cash discounts yet: leave matching.cash_discount unset "+
			"(the discount then stays open on the invoice)", ErrBadPosting)
	default:
		return fmt.Errorf("%w: unknown kind %q", ErrBadPosting, p.Kind)
	}
	return nil
}

// receivables returns the receivable account of each existing party (0
// when it has none): its own, else the company's default from the
// accounting configuration. Parties that do not exist are left out.
func (c *Client) receivables(ctx context.Context, parties map[int]bool) (map[int]int, error) {
	out := map[int]int{}
	if len(parties) == 0 {
		return out, nil
	}
	ids := make([]int, 0, len(parties))
	for id := range parties {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	var found []int // read fails for ids that do not exist: search them first
	if err := c.rpc.call(ctx, &found, read, "model.party.party.search", [][]any{{"id", "in", ids}}, 0, nil, nil); err != nil {
		return nil, fmt.Errorf("finding the parties credited on account: %w", err)
	}
	if len(found) == 0 {
		return out, nil
	}
	var rows []struct {
		ID         int  `json:"id"`
		Receivable *int `json:"account_receivable"`
	}
	if err := c.rpc.call(ctx, &rows, read, "model.party.party.read", found, []string{"account_receivable"}); err != nil {
		return nil, fmt.Errorf("reading the receivable accounts of parties %v: %w", found, err)
	}
	def := -1 // not read yet
	for _, r := range rows {
		if r.Receivable != nil {
			out[r.ID] = *r.Receivable
			continue
		}
		if def < 0 {
			var err error
			if def, err = c.defaultReceivable(ctx); err != nil {
				return nil, err
			}
		}
		out[r.ID] = def
	}
	return out, nil
}

// defaultReceivable is the company's default receivable account (0 for
// none).
func (c *Client) defaultReceivable(ctx context.Context) (int, error) {
	var conf []struct {
		Receivable *int `json:"default_account_receivable"`
	}
	if err := c.rpc.call(ctx, &conf, read, "model.account.configuration.read", []int{1}, []string{"default_account_receivable"}); err != nil {
		return 0, fmt.Errorf("reading the default receivable account: %w", err)
	}
	if len(conf) != 1 || conf[0].Receivable == nil {
		return 0, nil
	}
	return *conf[0].Receivable, nil
}

// postingLines are the statement lines of kd's postings, dated d; accounts
// maps a party to its receivable account (see postingAccounts).
func (c *Client) postingLines(kd connectors.KeyedDecision, d Date, accounts map[int]int) ([]lineValues, error) {
	var lines []lineValues
	for _, p := range kd.Decision.Postings {
		if err := c.checkPosting(p, accounts); err != nil {
			return nil, &PostingError{Key: kd.Key, Posting: p, Err: err}
		}
		l := lineValues{Number: kd.Key, Date: d, Amount: Decimal{p.Amount}, Description: postingText(p, kd)}
		switch p.Kind {
		case domain.OnAccount:
			party, _ := strconv.Atoi(p.CustomerID)
			l.Party, l.Account = &party, accounts[party]
		case domain.WriteOffPosting:
			l.Account = c.writeOffAcc
		}
		lines = append(lines, l)
	}
	return lines, nil
}
