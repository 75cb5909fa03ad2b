// Package tryton is a ledger backed by a Tryton 6 server over JSON-RPC.
//
// Open items are the posted customer invoices (account.invoice, type out)
// with their amount to pay. A batch of decisions (one bank statement) is
// written as ONE account.statement in the configured statement journal,
// with one line per allocation linked to its invoice (party, receivable
// account, amount, invoice); the statement is validated and posted, so
// Tryton's own reconciliation marks the invoices paid or partly paid.
// A decision's postings (domain.Posting) are lines of the same statement:
// cash put on a customer's account is a line with the party and its
// receivable account but no invoice (an unapplied credit on the customer's
// receivable), cash written off is a line on Config.WriteOffAccount (see
// postings.go). A decision may hold postings only.
//
// Exactly once: every line carries the decision key in its "number" field.
// Apply searches for the keys before creating anything, finishes a
// statement a crash left in draft or validated, and never retries the
// creation blindly: after a timeout it searches again first.
//
// Refusals: a decision Tryton refuses for a business reason (invoice paid
// or cancelled meanwhile, allocation above the amount to pay, closed
// period, any UserError) is returned as a *connectors.RejectedError and
// the rest of the batch is written (see Apply).
//
// Exceptions in Tryton's screens: with Config.SuspenseAccount set, the
// client is a connectors.ExceptionSink: unlettered credits are posted in
// the statement journal against the suspense account (lines numbered
// ExceptionKey(tx key)), and a later letter of such a transaction moves the
// cash from the suspense account to the invoice instead of booking it
// again (see RecordExceptions).
//
// Unlettering (connectors.Unletterer): a lettering is reversed in Tryton
// itself — its invoices are open again — by a posted statement that
// mirrors it, numbered with the reversal key (see Unletter).
package tryton

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/internal/failpoint"
	"github.com/lettrage/lettrage/connectors/internal/httpx"
	"github.com/lettrage/lettrage/domain"
)

// Config is the YAML configuration of a Tryton ledger.
type Config struct {
	// URL is the server's base URL (http://tryton:8000).
	URL string `yaml:"url"`
	// Database is the Tryton database name.
	Database string `yaml:"database"`
	// User logs in with Password, or the content of PasswordFile.
	User         string `yaml:"user"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	// Journal is the statement journal (account.statement.journal) the
	// statements are written to: its name or numeric id.
	Journal string `yaml:"journal"`
	// Company, when set, selects the company (name or id) instead of the
	// user's current one.
	Company string `yaml:"company"`
	// WriteOffAccount (account name, code or id), when set, receives the
	// write-offs of allocations: the invoice is settled in full by an extra
	// pair of lines (invoice +w, this account −w); and the write-off
	// postings of an accountant's resolution (domain.WriteOffPosting) are
	// booked to it. Without it allocation write-offs are not posted (the
	// small difference stays open in Tryton) and decisions with write-off
	// postings are refused.
	WriteOffAccount string `yaml:"write_off_account"`
	// SuspenseAccount (account code, name or id), when set, makes the
	// client an exception sink: every booked credit Lettrage could not
	// letter is posted in the statement journal against this account
	// (a suspense / unallocated-cash account, e.g. 471 in France), so the
	// cash is in the bank account and the accountants find the open line in
	// Tryton's own screens (reconcile it on this account). When a later run
	// letters the transaction, the cash moves from this account to the
	// invoices — it is never booked twice. Without it exceptions are only
	// reported in files.
	SuspenseAccount string `yaml:"suspense_account"`
	// Language of Tryton's messages (default "en").
	Language string `yaml:"language"`
	// PageSize is the number of invoices read per call (default 500).
	PageSize int `yaml:"page_size"`
	// Timeout bounds one HTTP call (default 60s).
	Timeout time.Duration `yaml:"timeout"`
}

// Validate checks the configuration without connecting. Errors name the
// YAML key.
func (c *Config) Validate() error {
	errs := httpx.Endpoint{URL: c.URL, Database: c.Database, User: c.User, SecretKey: "password",
		Secret: c.Password, SecretFile: c.PasswordFile, PageSize: c.PageSize, Timeout: c.Timeout}.Validate()
	if c.Journal == "" {
		errs = append(errs, errors.New("journal: required (statement journal name or id)"))
	}
	return errors.Join(errs...)
}

// Client is the Tryton ledger.
type Client struct {
	cfg Config
	rpc *rpc

	mu          sync.Mutex
	journalID   int
	companyID   int
	writeOffAcc int
	suspenseAcc int
	currency    string // the statement journal's currency code

	// stampQuiet is how long ago the last write must be for OpenItemsStamp
	// to stamp (DefaultStampQuiet; tests shorten it).
	stampQuiet time.Duration
}

var _ connectors.Ledger = (*Client)(nil)

// New validates cfg and prepares a client; it connects lazily (the first
// call logs in).
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating tryton ledger config: %w", err)
	}
	pw := cfg.Password
	if cfg.PasswordFile != "" {
		b, err := os.ReadFile(cfg.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("reading password_file: %w", err)
		}
		pw = strings.TrimRight(string(b), "\r\n")
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = 500
	}
	if cfg.Language == "" {
		cfg.Language = "en"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	cfg.Password, cfg.PasswordFile = "", "" // not kept around in the config copy
	return &Client{cfg: cfg, stampQuiet: DefaultStampQuiet, rpc: &rpc{
		hc:       httpx.New(httpx.Options{Timeout: cfg.Timeout}),
		url:      strings.TrimRight(cfg.URL, "/") + "/" + cfg.Database + "/",
		user:     cfg.User,
		password: pw,
		language: cfg.Language,
	}}, nil
}

// Close ends the client (the server session simply expires).
func (c *Client) Close() error { return nil }

var read = callOpts{idempotent: true}

// setup resolves the journal, company and write-off account once.
func (c *Client) setup(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.journalID != 0 {
		return nil
	}
	if c.cfg.Company != "" {
		id, err := c.resolve(ctx, "company.company", c.cfg.Company, "party.name")
		if err != nil {
			return fmt.Errorf("finding company %q: %w", c.cfg.Company, err)
		}
		c.rpc.company = id
		c.rpc.mu.Lock()
		c.rpc.auth = "" // log in again so that the context carries it
		c.rpc.mu.Unlock()
		c.companyID = id
	}
	jid, err := c.resolve(ctx, "account.statement.journal", c.cfg.Journal, "name")
	if err != nil {
		return fmt.Errorf("finding statement journal %q: %w", c.cfg.Journal, err)
	}
	var j []struct {
		Company  int `json:"company"`
		Currency struct {
			Code string `json:"code"`
		} `json:"currency."`
	}
	if err := c.rpc.call(ctx, &j, read, "model.account.statement.journal.read", []int{jid}, []string{"company", "currency.code"}); err != nil || len(j) != 1 {
		return fmt.Errorf("reading statement journal %q: %w", c.cfg.Journal, errors.Join(err, ErrProtocol))
	}
	if c.companyID == 0 {
		c.companyID = j[0].Company
	}
	c.currency = j[0].Currency.Code
	if c.cfg.WriteOffAccount != "" {
		id, err := c.resolve(ctx, "account.account", c.cfg.WriteOffAccount, "code", "name")
		if err != nil {
			return fmt.Errorf("finding write_off_account %q: %w", c.cfg.WriteOffAccount, err)
		}
		c.writeOffAcc = id
	}
	if c.cfg.SuspenseAccount != "" {
		id, err := c.resolve(ctx, "account.account", c.cfg.SuspenseAccount, "code", "name")
		if err != nil {
			return fmt.Errorf("finding suspense_account %q: %w", c.cfg.SuspenseAccount, err)
		}
		c.suspenseAcc = id
	}
	c.journalID = jid
	return nil
}

// ErrNotFound is returned (wrapped) when a configured journal, company or
// account does not exist in Tryton; ErrAmbiguous when a name matches several.
var (
	ErrNotFound  = errors.New("not found in Tryton")
	ErrAmbiguous = errors.New("ambiguous name in Tryton")
)

// resolve finds a record by numeric id or by one of the given fields.
func (c *Client) resolve(ctx context.Context, model, ref string, fields ...string) (int, error) {
	if id, err := strconv.Atoi(ref); err == nil {
		var ids []int
		if err := c.rpc.call(ctx, &ids, read, "model."+model+".search", [][]any{{"id", "=", id}}, 0, nil, nil); err != nil {
			return 0, err
		}
		if len(ids) == 1 {
			return id, nil
		}
	}
	for _, f := range fields {
		var ids []int
		if err := c.rpc.call(ctx, &ids, read, "model."+model+".search", [][]any{{f, "=", ref}}, 0, nil, nil); err != nil {
			return 0, err
		}
		switch len(ids) {
		case 0:
			continue
		case 1:
			return ids[0], nil
		default:
			return 0, fmt.Errorf("%d records of %s: %w", len(ids), model, ErrAmbiguous)
		}
	}
	return 0, ErrNotFound
}

type invoiceRow struct {
	ID          int     `json:"id"`
	Number      string  `json:"number"`
	Reference   string  `json:"reference"`
	Party       int     `json:"party"`
	Account     int     `json:"account"`
	State       string  `json:"state"`
	Total       Decimal `json:"total_amount"`
	AmountToPay Decimal `json:"amount_to_pay"`
	InvoiceDate Date    `json:"invoice_date"`
	LinesToPay  []int   `json:"lines_to_pay"`
	PartyRel    struct {
		RecName string `json:"rec_name"`
	} `json:"party."`
	CurrencyRel struct {
		Code string `json:"code"`
	} `json:"currency."`
}

var invoiceFields = []string{"number", "reference", "party", "account", "state", "total_amount", "amount_to_pay",
	"invoice_date", "lines_to_pay", "party.rec_name", "currency.code"}

// OpenItems reads the posted customer invoices of the company, a page at a
// time. The due date is the earliest maturity of the invoice's lines to pay
// that are not reconciled.
func (c *Client) OpenItems(ctx context.Context) ([]domain.OpenItem, error) {
	if err := c.setup(ctx); err != nil {
		return nil, err
	}
	searchDomain := [][]any{{"type", "=", "out"}, {"state", "=", "posted"}, {"company", "=", c.companyID}}
	var items []domain.OpenItem
	for offset := 0; ; offset += c.cfg.PageSize {
		var page []invoiceRow
		if err := c.rpc.call(ctx, &page, read, "model.account.invoice.search_read", searchDomain, offset, c.cfg.PageSize,
			[][]string{{"id", "ASC"}}, invoiceFields); err != nil {
			return nil, fmt.Errorf("reading open invoices from offset %d: %w", offset, err)
		}
		due, err := c.maturities(ctx, page)
		if err != nil {
			return nil, err
		}
		for _, inv := range page {
			if inv.AmountToPay.IsZero() {
				continue
			}
			res := inv.AmountToPay.Amount
			if inv.Total.Sign() < 0 && res.Sign() > 0 { // a credit note
				res = res.Neg()
			}
			it := domain.OpenItem{
				ID:               strconv.Itoa(inv.ID),
				CustomerID:       strconv.Itoa(inv.Party),
				CustomerName:     inv.PartyRel.RecName,
				DocumentNumber:   inv.Number,
				PaymentReference: inv.Reference,
				IssueDate:        inv.InvoiceDate.Time,
				DueDate:          due[inv.ID],
				Currency:         inv.CurrencyRel.Code,
				Amount:           inv.Total.Amount,
				Residual:         res,
			}
			if it.DueDate.IsZero() {
				it.DueDate = it.IssueDate
			}
			items = append(items, it)
		}
		if len(page) < c.cfg.PageSize {
			return items, nil
		}
	}
}

func (c *Client) maturities(ctx context.Context, page []invoiceRow) (map[int]time.Time, error) {
	var lineIDs []int
	owner := map[int]int{}
	for _, inv := range page {
		for _, l := range inv.LinesToPay {
			lineIDs = append(lineIDs, l)
			owner[l] = inv.ID
		}
	}
	due := map[int]time.Time{}
	if len(lineIDs) == 0 {
		return due, nil
	}
	var lines []struct {
		ID             int  `json:"id"`
		Maturity       Date `json:"maturity_date"`
		Reconciliation *int `json:"reconciliation"`
	}
	if err := c.rpc.call(ctx, &lines, read, "model.account.move.line.read", lineIDs, []string{"maturity_date", "reconciliation"}); err != nil {
		return nil, fmt.Errorf("reading maturity dates: %w", err)
	}
	for _, l := range lines {
		if l.Reconciliation != nil || l.Maturity.IsZero() {
			continue
		}
		inv := owner[l.ID]
		if d, ok := due[inv]; !ok || l.Maturity.Before(d) {
			due[inv] = l.Maturity.Time
		}
	}
	return due, nil
}

type stmtLine struct {
	ID        int     `json:"id"`
	Number    string  `json:"number"`
	Statement int     `json:"statement"`
	Amount    Decimal `json:"amount"`
	StmtRel   struct {
		State string `json:"state"`
	} `json:"statement."`
}

// findLines returns the statement lines carrying any of keys (chunked).
func (c *Client) findLines(ctx context.Context, keys []string) ([]stmtLine, error) {
	var all []stmtLine
	for start := 0; start < len(keys); start += 500 {
		end := min(start+500, len(keys))
		var lines []stmtLine
		if err := c.rpc.call(ctx, &lines, read, "model.account.statement.line.search_read",
			[][]any{{"number", "in", keys[start:end]}, {"statement.journal", "=", c.journalID}}, 0, nil, nil,
			[]string{"number", "statement", "amount", "statement.state"}); err != nil {
			return nil, fmt.Errorf("searching statement lines by decision key: %w", err)
		}
		all = append(all, lines...)
	}
	return all, nil
}

// Applied reports which keys are on lines of a posted statement. A key on a
// draft or validated statement (a crash between steps) is not applied yet:
// Apply finishes it.
func (c *Client) Applied(ctx context.Context, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(keys) == 0 {
		return out, nil
	}
	if err := c.setup(ctx); err != nil {
		return nil, err
	}
	lines, err := c.findLines(ctx, keys)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		if l.StmtRel.State == "posted" {
			out[l.Number] = true
		}
	}
	return out, nil
}

// ErrNotAuto is returned (wrapped) for a decision that is not automatic or
// has neither allocations nor postings: the ledgers' shared one.
var ErrNotAuto = connectors.ErrNotAuto

// ErrItemNotOpen is returned (wrapped in an *ItemError) when an invoice an
// allocation names is no longer open in Tryton (paid or cancelled
// meanwhile): the ledgers' shared one.
var ErrItemNotOpen = connectors.ErrItemNotOpen

// ItemError locates a write-back problem: the decision and the invoice
// (the ledgers' shared connectors.ItemError).
type ItemError = connectors.ItemError

// Failpoints inside the write-back (see connectors/internal/failpoint): the
// crash tests kill the process there to prove a statement left in draft or
// validated is finished, never written twice.
const (
	FailAfterCreate   = "tryton-after-create"   // statement created (draft)
	FailAfterValidate = "tryton-after-validate" // validated, not posted
	// FailExceptionsAfterCreate: a suspense statement created (draft).
	FailExceptionsAfterCreate = "tryton-exceptions-after-create"
)

// Apply writes the batch as one posted statement. Keys already on a posted
// statement are skipped; a statement left in draft or validated by a crash
// is finished instead of written again.
//
// Decisions Tryton refuses for business reasons (an invoice paid or
// cancelled meanwhile, an allocation above the amount to pay, a closed
// period, any UserError on validation) come back as *connectors.RejectedError
// — joined when there are several — and the other decisions are written
// all the same: when the statement of the whole batch is refused, it is
// deleted and every decision is tried again in its own statement.
func (c *Client) Apply(ctx context.Context, batch []connectors.KeyedDecision) error {
	if len(batch) == 0 {
		return nil
	}
	for _, kd := range batch {
		if kd.Decision.Outcome != domain.Auto || len(kd.Decision.Allocations)+len(kd.Decision.Postings) == 0 {
			return fmt.Errorf("applying decision %q (%s): %w", kd.Key, kd.Decision.Outcome, ErrNotAuto)
		}
	}
	if err := c.setup(ctx); err != nil {
		return err
	}
	keys := make([]string, len(batch))
	for i, kd := range batch {
		keys[i] = kd.Key
	}
	have, err := c.settle(ctx, keys)
	if err != nil {
		return fmt.Errorf("applying %d decisions: %w", len(batch), err)
	}
	var todo []connectors.KeyedDecision
	var refused []error
	for _, kd := range batch {
		if have[kd.Key] {
			continue
		}
		if r := connectors.RefuseCrossCurrency("Tryton", kd); r != nil {
			refused = append(refused, r)
			continue
		}
		todo = append(todo, kd)
	}
	rejected := refused
	if len(todo) > 0 {
		bad, ok, err := c.check(ctx, todo)
		if err != nil {
			return err
		}
		rejected, todo = append(rejected, bad...), ok
	}
	if len(todo) > 0 {
		more, err := c.write(ctx, todo)
		if err != nil {
			return err
		}
		rejected = append(rejected, more...)
	}
	if len(rejected) > 0 {
		return fmt.Errorf("applying %d decisions, %d refused by Tryton: %w", len(batch), len(rejected), errors.Join(rejected...))
	}
	return nil
}

// settle finds the lines carrying keys, finishes the statements a crash
// left in draft or validated, and returns the keys now on a live
// statement. A leftover statement Tryton refuses to finish (a business
// error) is deleted: its keys are then written again, one by one if need
// be, by the caller.
func (c *Client) settle(ctx context.Context, keys []string) (map[string]bool, error) {
	existing, err := c.findLines(ctx, keys)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	unfinished := map[int]string{}
	onStmt := map[int][]string{}
	for _, l := range existing {
		if l.StmtRel.State == "cancelled" {
			continue
		}
		have[l.Number] = true
		if l.StmtRel.State != "posted" {
			unfinished[l.Statement] = l.StmtRel.State
			onStmt[l.Statement] = append(onStmt[l.Statement], l.Number)
		}
	}
	ids := make([]int, 0, len(unfinished))
	for id := range unfinished {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		err := c.finish(ctx, id, unfinished[id])
		if err == nil {
			continue
		}
		if !isBusiness(err) {
			return nil, err
		}
		if derr := c.discard(ctx, id); derr != nil {
			return nil, errors.Join(err, derr)
		}
		for _, k := range onStmt[id] {
			delete(have, k)
		}
	}
	return have, nil
}

// isBusiness reports whether err is a Tryton UserError or UserWarning.
func isBusiness(err error) bool {
	var te *Error
	return errors.As(err, &te) && te.Business()
}

// reject builds the rejection of one decision from a located problem.
func reject(key string, err error) error {
	return &connectors.RejectedError{Key: key, Reason: reasonOf(err), Err: err}
}

// reasonOf is the text for accountants: Tryton's own message when there is
// one, else the located problem.
func reasonOf(err error) string { return connectors.ReasonOf(err, trytonMessage) }

// trytonMessage is Tryton's own message in err (with its description), else
// the posting a *PostingError names.
func trytonMessage(err error) (string, bool) {
	var te *Error
	if errors.As(err, &te) {
		if te.Description != "" {
			return te.Message + " " + te.Description, true
		}
		return te.Message, true
	}
	var pe *PostingError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s posting: %v", pe.Posting.Kind, pe.Err), true
	}
	return "", false
}

// write creates, validates and posts one statement for todo. When Tryton
// refuses it for a business reason, the draft is deleted and each decision
// is written in a statement of its own, so that only the guilty ones are
// rejected.
func (c *Client) write(ctx context.Context, todo []connectors.KeyedDecision) ([]error, error) {
	err := c.writeOne(ctx, todo)
	if err == nil {
		return nil, nil
	}
	if !isBusiness(err) {
		return nil, err
	}
	if len(todo) == 1 {
		return []error{reject(todo[0].Key, err)}, nil
	}
	var rejected []error
	for _, kd := range todo {
		err := c.writeOne(ctx, []connectors.KeyedDecision{kd})
		switch {
		case err == nil:
		case isBusiness(err):
			rejected = append(rejected, reject(kd.Key, err))
		default:
			return nil, err
		}
	}
	return rejected, nil
}

// writeOne writes decisions as one statement; on a business error the
// statement (if created) is deleted again before returning the error.
func (c *Client) writeOne(ctx context.Context, todo []connectors.KeyedDecision) error {
	id, err := c.create(ctx, todo)
	if err != nil {
		return err
	}
	failpoint.Crash(FailAfterCreate)
	err = c.finish(ctx, id, "draft")
	if err != nil && isBusiness(err) {
		if derr := c.discard(ctx, id); derr != nil {
			return errors.Join(err, derr)
		}
	}
	return err
}

// discard deletes a statement Tryton refused (Tryton cancels it first).
func (c *Client) discard(ctx context.Context, id int) error {
	if err := c.rpc.call(ctx, nil, read, "model.account.statement.delete", []int{id}); err != nil {
		return fmt.Errorf("deleting refused statement %d: %w", id, err)
	}
	return nil
}

// finish validates (when draft) and posts a statement. Both are workflow
// transitions that Tryton ignores for a statement already past them, so
// they may be repeated.
func (c *Client) finish(ctx context.Context, id int, state string) error {
	if state == "draft" {
		if err := c.rpc.call(ctx, nil, read, "model.account.statement.validate_statement", []int{id}); err != nil {
			return fmt.Errorf("validating statement %d: %w", id, err)
		}
		failpoint.Crash(FailAfterValidate)
	}
	if err := c.rpc.call(ctx, nil, read, "model.account.statement.post", []int{id}); err != nil {
		return fmt.Errorf("posting statement %d: %w", id, err)
	}
	return nil
}

type lineValues struct {
	Number      string  `json:"number"`
	Date        Date    `json:"date"`
	Amount      Decimal `json:"amount"`
	Party       *int    `json:"party,omitempty"`
	Account     int     `json:"account"`
	Invoice     *int    `json:"invoice,omitempty"`
	Description string  `json:"description"`
}

// ErrAboveResidual is returned (wrapped in an *ItemError) when the
// allocations to an invoice exceed what Tryton says is left to pay.
var ErrAboveResidual = errors.New("allocation is above the invoice's amount to pay")

// check reads the invoices the decisions name and sets aside (as
// rejections) the decisions whose invoice is gone, no longer open, or owes
// less than the batch allocates to it, and those with a posting that
// cannot be written (see postingAccounts).
func (c *Client) check(ctx context.Context, todo []connectors.KeyedDecision) (rejected []error, ok []connectors.KeyedDecision, err error) {
	ids := map[int]bool{}
	for _, kd := range todo {
		for _, al := range kd.Decision.Allocations {
			if id, err := strconv.Atoi(al.ItemID); err == nil {
				ids[id] = true
			}
		}
	}
	idList := make([]int, 0, len(ids))
	for id := range ids {
		idList = append(idList, id)
	}
	sort.Ints(idList)
	var invs []invoiceRow
	if len(idList) > 0 {
		// read fails for ids that do not exist: search them first.
		var found []int
		if err := c.rpc.call(ctx, &found, read, "model.account.invoice.search", [][]any{{"id", "in", idList}}, 0, nil, nil); err != nil {
			return nil, nil, fmt.Errorf("finding the invoices to settle: %w", err)
		}
		if len(found) > 0 {
			if err := c.rpc.call(ctx, &invs, read, "model.account.invoice.read", found, invoiceFields); err != nil {
				return nil, nil, fmt.Errorf("reading the invoices to settle: %w", err)
			}
		}
	}
	byID := map[int]invoiceRow{}
	for _, inv := range invs {
		byID[inv.ID] = inv
	}
	left := map[int]domain.Amount{} // amount to pay still free in this batch
	for _, inv := range invs {
		left[inv.ID] = inv.AmountToPay.Abs()
	}
	_, badPostings, err := c.postingAccounts(ctx, todo)
	if err != nil {
		return nil, nil, err
	}
	for _, kd := range todo {
		problem := badPostings[kd.Key]
		need := map[int]domain.Amount{}
		for _, al := range kd.Decision.Allocations {
			if problem != nil {
				break
			}
			id, err := strconv.Atoi(al.ItemID)
			if err != nil {
				problem = &ItemError{Key: kd.Key, ItemID: al.ItemID, Err: fmt.Errorf("not a Tryton invoice id: %w", err)}
				break
			}
			inv, found := byID[id]
			if !found {
				problem = &ItemError{Key: kd.Key, ItemID: al.ItemID, Err: ErrNotFound}
				break
			}
			if inv.State != "posted" {
				problem = &ItemError{Key: kd.Key, ItemID: al.ItemID, Err: fmt.Errorf("%w (state %s)", ErrItemNotOpen, inv.State)}
				break
			}
			settles := al.Amount
			if c.writeOffAcc != 0 {
				settles = settles.Add(al.WriteOff)
			}
			need[id] = need[id].Add(settles.Abs())
		}
		if problem == nil {
			for id, n := range need {
				if n.Cmp(left[id]) > 0 {
					problem = &ItemError{Key: kd.Key, ItemID: strconv.Itoa(id),
						Err: fmt.Errorf("%w (%s > %s)", ErrAboveResidual, n, left[id])}
					break
				}
			}
		}
		if problem != nil {
			rejected = append(rejected, reject(kd.Key, problem))
			continue
		}
		for id, n := range need {
			left[id] = left[id].Sub(n)
		}
		ok = append(ok, kd)
	}
	return rejected, ok, nil
}

// create builds the statement and its lines in ONE create call (atomic in
// Tryton). The call is not idempotent: after a failure whose outcome is
// unknown it searches for the keys before trying again. The invoices were
// checked by check.
func (c *Client) create(ctx context.Context, todo []connectors.KeyedDecision) (int, error) {
	ids := map[int]bool{}
	for _, kd := range todo {
		for _, al := range kd.Decision.Allocations {
			id, err := strconv.Atoi(al.ItemID)
			if err != nil {
				return 0, &ItemError{Key: kd.Key, ItemID: al.ItemID, Err: fmt.Errorf("not a Tryton invoice id: %w", err)}
			}
			ids[id] = true
		}
	}
	idList := make([]int, 0, len(ids))
	for id := range ids {
		idList = append(idList, id)
	}
	sort.Ints(idList)
	var invs []invoiceRow
	if len(idList) > 0 {
		if err := c.rpc.call(ctx, &invs, read, "model.account.invoice.read", idList, invoiceFields); err != nil {
			return 0, fmt.Errorf("reading the invoices to settle: %w", err)
		}
	}
	accounts, _, err := c.postingAccounts(ctx, todo)
	if err != nil {
		return 0, err
	}
	byID := map[int]invoiceRow{}
	for _, inv := range invs {
		byID[inv.ID] = inv
	}
	suspense, err := c.suspenseLines(ctx, todo)
	if err != nil {
		return 0, err
	}
	held, err := c.suspenseHeld(ctx, suspense)
	if err != nil {
		return 0, err
	}
	var lines []lineValues
	var problems []error
	for _, kd := range todo {
		d := kd.Tx.BookingDate
		if d.IsZero() {
			d = kd.DecidedAt
		}
		d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
		desc := strings.TrimSpace(fmt.Sprintf("lettrage %s %s %s", kd.Tx.Ref, kd.Tx.Counterparty.Name, kd.Decision.Rule))
		cash := domain.Amount{}
		for _, al := range kd.Decision.Allocations {
			id, _ := strconv.Atoi(al.ItemID)
			inv, ok := byID[id]
			if !ok {
				problems = append(problems, &ItemError{Key: kd.Key, ItemID: al.ItemID, Err: ErrNotFound})
				continue
			}
			if inv.State != "posted" {
				problems = append(problems, &ItemError{Key: kd.Key, ItemID: al.ItemID, Err: fmt.Errorf("%w (state %s)", ErrItemNotOpen, inv.State)})
				continue
			}
			party, invID := inv.Party, inv.ID
			lines = append(lines, lineValues{Number: kd.Key, Date: Date{d}, Amount: Decimal{al.Amount}, Party: &party,
				Account: inv.Account, Invoice: &invID, Description: desc})
			cash = cash.Add(al.Amount)
			if !al.WriteOff.IsZero() && c.writeOffAcc != 0 {
				lines = append(lines,
					lineValues{Number: kd.Key, Date: Date{d}, Amount: Decimal{al.WriteOff}, Party: &party, Account: inv.Account,
						Invoice: &invID, Description: desc + " write-off"},
					lineValues{Number: kd.Key, Date: Date{d}, Amount: Decimal{al.WriteOff.Neg()}, Account: c.writeOffAcc,
						Description: desc + " write-off"})
			}
		}
		pl, err := c.postingLines(kd, Date{d}, accounts)
		if err != nil {
			problems = append(problems, err)
		}
		for _, l := range pl {
			lines = append(lines, l)
			cash = cash.Add(l.Amount.Amount)
		}
		// The cash is already in the bank, booked on the suspense account
		// by an earlier run: move it from there to the invoices instead of
		// booking it a second time — what the account still holds for the
		// transaction (a letter before this one, or earlier in the batch,
		// may have taken part of it), at most this decision's cash.
		if sl, ok := suspense[kd.Tx.Key]; ok {
			if move := cash.Min(held[kd.Tx.Key]); move.Sign() > 0 {
				held[kd.Tx.Key] = held[kd.Tx.Key].Sub(move)
				lines = append(lines, lineValues{Number: kd.Key, Date: Date{d}, Amount: Decimal{move.Neg()},
					Account: c.suspenseAcc, Description: desc + " from " + suspenseMark(sl.Number)})
			}
		}
	}
	if len(problems) > 0 {
		return 0, fmt.Errorf("checking the invoices and postings to settle: %w", errors.Join(problems...))
	}
	keys := make([]string, len(todo))
	for i, kd := range todo {
		keys[i] = kd.Key
	}
	return c.post(ctx, "Lettrage", keys, lines)
}

// post creates one draft statement holding lines, whose numbers are keys.
// The create call is not idempotent: after a failure whose outcome is
// unknown it searches for the keys before trying again.
func (c *Client) post(ctx context.Context, title string, keys []string, lines []lineValues) (int, error) {
	start, err := c.lastBalance(ctx)
	if err != nil {
		return 0, err
	}
	total := domain.Amount{}
	var date time.Time
	for _, l := range lines {
		total = total.Add(l.Amount.Amount)
		if l.Date.After(date) {
			date = l.Date.Time
		}
	}
	stmt := map[string]any{
		"name":            fmt.Sprintf("%s %s %s", title, date.Format(time.DateOnly), keys[0]),
		"journal":         c.journalID,
		"company":         c.companyID,
		"date":            Date{date},
		"start_balance":   Decimal{start},
		"end_balance":     Decimal{start.Add(total)},
		"total_amount":    Decimal{total},
		"number_of_lines": len(lines),
		"lines":           []any{[]any{"create", lines}},
	}
	recheck := func(ctx context.Context) (bool, error) {
		found, err := c.findLines(ctx, keys)
		return len(found) > 0, err
	}
	var created []int
	err = c.rpc.call(ctx, &created, callOpts{recheck: recheck}, "model.account.statement.create", []any{stmt})
	if errors.Is(err, httpx.ErrAlreadyDone) {
		found, ferr := c.findLines(ctx, keys)
		if ferr != nil || len(found) == 0 {
			return 0, fmt.Errorf("finding the statement created on an earlier attempt: %w", errors.Join(ferr, err))
		}
		return found[0].Statement, nil
	}
	if err != nil {
		return 0, fmt.Errorf("creating statement for %d keys: %w", len(keys), err)
	}
	if len(created) != 1 {
		return 0, fmt.Errorf("creating statement: %d ids returned: %w", len(created), ErrProtocol)
	}
	return created[0], nil
}

// lastBalance is the end balance of the journal's most recently created
// validated or posted statement (0 for the first), so that the balances
// chain; drafts (a statement Tryton refused) do not count.
func (c *Client) lastBalance(ctx context.Context) (domain.Amount, error) {
	var st []struct {
		End Decimal `json:"end_balance"`
	}
	if err := c.rpc.call(ctx, &st, read, "model.account.statement.search_read",
		[][]any{{"journal", "=", c.journalID}, {"state", "in", []string{"validated", "posted"}}}, 0, 1,
		[][]string{{"id", "DESC"}}, []string{"end_balance"}); err != nil {
		return domain.Amount{}, fmt.Errorf("reading the journal's last balance: %w", err)
	}
	if len(st) == 0 {
		return domain.Amount{}, nil
	}
	return st[0].End.Amount, nil
}
