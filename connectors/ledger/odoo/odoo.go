// Package odoo is a ledger backed by Odoo 16–18 through its external
// JSON-RPC API (POST /jsonrpc, service "object", execute_kw with the
// database, user id and API key).
//
// Open items are posted customer invoices and credit notes that are not
// (fully) paid. Write-back registers one payment per allocation with the
// exact amount, through the account.payment.register wizard (create, then
// action_create_payments with active_model/active_ids in the context), so
// Odoo reconciles it with the invoice. Each payment's memo ("ref" up to
// Odoo 17, "memo" from 18, detected with common.version) carries
// "lettrage:<decision key>:<n>/<count>": payments are searched by it before
// any is created, and a call whose answer was lost is never repeated before
// that search.
//
// Postings (cash booked without an invoice, see postings.go) follow the
// allocations of their decision under the same memo scheme: on-account
// cash is a posted customer payment left unreconciled (an outstanding
// credit of the customer), a write-off a journal entry on
// Config.WriteOffAccount with the reason code in its memo.
//
// With Config.RecordExceptions, every booked credit is written as a bank
// statement line of the journal instead: unlettered ones open
// (RecordExceptions), lettered ones settled against their invoices by
// Apply, which also settles the line of an earlier exception rather than
// registering a payment, so the cash is posted once (see settle).
// Unletter reverses either kind of lettering.
package odoo

import (
	"context"
	"encoding/json"
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

// Config is the YAML configuration of an Odoo ledger.
type Config struct {
	// URL is the server's base URL (https://erp.example.com); /jsonrpc is
	// appended.
	URL string `yaml:"url"`
	// Database is the Odoo database name.
	Database string `yaml:"database"`
	// User is the login; APIKey (or the content of APIKeyFile) its API key
	// (Preferences › Account Security › New API Key).
	User       string `yaml:"user"`
	APIKey     string `yaml:"api_key"`
	APIKeyFile string `yaml:"api_key_file"`
	// Journal, when set, is the bank journal payments are registered in
	// (name, code or id); otherwise the wizard's default.
	Journal string `yaml:"journal"`
	// WriteOffAccount (account code or id), when set, closes a payment's
	// write-off: the wizard's payment difference is reconciled on it.
	// Without it the difference stays open on the invoice. Write-off
	// postings (domain.WriteOffPosting) are booked on it, and refused
	// without it (and without Journal).
	WriteOffAccount string `yaml:"write_off_account"`
	// RecordExceptions writes every booked credit in the journal's
	// currency as a bank statement line of Journal (required then):
	// unlettered ones as open lines (RecordExceptions), lettered ones
	// settled against their invoices instead of registering payments, so
	// the cash is posted once.
	RecordExceptions bool `yaml:"record_exceptions"`
	// PageSize is the number of invoices read per call (default 500).
	PageSize int `yaml:"page_size"`
	// Timeout bounds one HTTP call (default 60s).
	Timeout time.Duration `yaml:"timeout"`
}

// Validate checks the configuration without connecting. Errors name the
// YAML key.
func (c *Config) Validate() error {
	errs := httpx.Endpoint{URL: c.URL, Database: c.Database, User: c.User, SecretKey: "api_key",
		Secret: c.APIKey, SecretFile: c.APIKeyFile, PageSize: c.PageSize, Timeout: c.Timeout}.Validate()
	if c.RecordExceptions && c.Journal == "" {
		errs = append(errs, errors.New("journal: required with record_exceptions"))
	}
	return errors.Join(errs...)
}

// Client is the Odoo ledger.
type Client struct {
	cfg Config
	key string
	rpc *rpc

	mu         sync.Mutex
	uid        int
	major      int    // Odoo major version
	memoField  string // "ref" (≤17) or "memo" (18+)
	journalID  int
	writeOffID int
	suspenseID int    // the journal's suspense account (record_exceptions)
	journalCcy string // the journal's currency code (record_exceptions)
	// outstandingID is the journal's outstanding receipts account, where
	// write-off entries put the cash (read on the first write-off).
	outstandingID int
	// stampQuiet is how long ago the last write must be for OpenItemsStamp
	// to stamp (DefaultStampQuiet; see stamp.go).
	stampQuiet time.Duration
}

var _ connectors.Ledger = (*Client)(nil)

// New validates cfg and prepares a client; it connects lazily.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating odoo ledger config: %w", err)
	}
	key := cfg.APIKey
	if cfg.APIKeyFile != "" {
		b, err := os.ReadFile(cfg.APIKeyFile)
		if err != nil {
			return nil, fmt.Errorf("reading api_key_file: %w", err)
		}
		key = strings.TrimSpace(string(b))
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = 500
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	cfg.APIKey, cfg.APIKeyFile = "", ""
	return &Client{cfg: cfg, key: key, stampQuiet: DefaultStampQuiet, rpc: &rpc{
		hc:  httpx.New(httpx.Options{Timeout: cfg.Timeout}),
		url: strings.TrimRight(cfg.URL, "/") + "/jsonrpc",
	}}, nil
}

// Close ends the client.
func (c *Client) Close() error { return nil }

var read = callOpts{idempotent: true}

// setup detects the version, authenticates and resolves the journal and
// write-off account, once.
func (c *Client) setup(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.uid != 0 {
		return nil
	}
	var ver struct {
		Info  []json.RawMessage `json:"server_version_info"`
		Serie string            `json:"server_serie"`
	}
	if err := c.rpc.call(ctx, &ver, read, "common.version", "common", "version"); err != nil {
		return fmt.Errorf("reading the Odoo version: %w", err)
	}
	major := 0
	if len(ver.Info) > 0 {
		_ = json.Unmarshal(ver.Info[0], &major)
	}
	if major == 0 { // "saas~17.2"
		s := strings.TrimPrefix(ver.Serie, "saas~")
		major, _ = strconv.Atoi(strings.SplitN(s, ".", 2)[0])
	}
	if major < 16 {
		return fmt.Errorf("reading the Odoo version: %d is not supported (16–18): %w", major, ErrProtocol)
	}
	var uid json.RawMessage
	if err := c.rpc.call(ctx, &uid, read, "common.authenticate", "common", "authenticate",
		c.cfg.Database, c.cfg.User, c.key, map[string]any{}); err != nil {
		var oe *Error
		if errors.As(err, &oe) && noSuchDatabase(oe, c.cfg.Database) {
			return fmt.Errorf("logging in to Odoo: database %q: %w", c.cfg.Database, ErrUnknownDatabase)
		}
		return fmt.Errorf("logging in to Odoo database %q as %q: %w", c.cfg.Database, c.cfg.User, err)
	}
	id, err := strconv.Atoi(string(uid))
	if err != nil || id == 0 {
		// Odoo answers false for a wrong login or key. Where the server
		// lists its databases, say so when the name is not among them.
		if listed, known := c.databaseListed(ctx); listed && !known {
			return fmt.Errorf("logging in to Odoo: database %q: %w", c.cfg.Database, ErrUnknownDatabase)
		}
		return fmt.Errorf("logging in to Odoo database %q as %q: %w", c.cfg.Database, c.cfg.User, ErrAuth)
	}
	c.uid, c.major = id, major
	c.memoField = "ref"
	if major >= 18 {
		c.memoField = "memo"
	}
	if c.cfg.Journal != "" {
		jid, err := c.resolve(ctx, "account.journal", c.cfg.Journal, [][]any{{"type", "=", "bank"}}, "code", "name")
		if err != nil {
			c.uid = 0
			return fmt.Errorf("finding journal %q: %w", c.cfg.Journal, err)
		}
		c.journalID = jid
		if c.cfg.RecordExceptions {
			if err := c.readJournal(ctx); err != nil {
				c.uid = 0
				return fmt.Errorf("reading journal %q: %w", c.cfg.Journal, err)
			}
		}
	}
	if c.cfg.WriteOffAccount != "" {
		aid, err := c.resolve(ctx, "account.account", c.cfg.WriteOffAccount, nil, "code")
		if err != nil {
			c.uid = 0
			return fmt.Errorf("finding write_off_account %q: %w", c.cfg.WriteOffAccount, err)
		}
		c.writeOffID = aid
	}
	return nil
}

// noSuchDatabase reports whether Odoo's error says that database does not
// exist: common.authenticate on an unknown name fails opening it
// (psycopg2.OperationalError … FATAL: database "x" does not exist).
func noSuchDatabase(oe *Error, database string) bool {
	return strings.HasPrefix(oe.Name, "psycopg2.") && strings.Contains(oe.Message, `database "`+database+`" does not exist`)
}

// databaseListed asks db.list (refused where list_db is off: listed is
// false) whether the configured database is served.
func (c *Client) databaseListed(ctx context.Context) (listed, known bool) {
	var names []string
	if err := c.rpc.call(ctx, &names, read, "db.list", "db", "list"); err != nil {
		return false, false
	}
	for _, n := range names {
		if n == c.cfg.Database {
			return true, true
		}
	}
	return true, false
}

// readJournal reads the bank journal's suspense account and currency (its
// own, else its company's).
func (c *Client) readJournal(ctx context.Context) error {
	var js []struct {
		Suspense Many2one `json:"suspense_account_id"`
		Currency Many2one `json:"currency_id"`
		Company  Many2one `json:"company_id"`
	}
	if err := c.execute(ctx, &js, read, "account.journal", "read", []any{[]int{c.journalID}},
		map[string]any{"fields": []string{"suspense_account_id", "currency_id", "company_id"}}); err != nil {
		return err
	}
	if len(js) != 1 || js[0].Suspense.ID == 0 {
		return fmt.Errorf("the journal has no suspense account: %w", ErrNotFound)
	}
	c.suspenseID, c.journalCcy = js[0].Suspense.ID, js[0].Currency.Name
	if c.journalCcy == "" && js[0].Company.ID != 0 {
		var cs []struct {
			Currency Many2one `json:"currency_id"`
		}
		if err := c.execute(ctx, &cs, read, "res.company", "read", []any{[]int{js[0].Company.ID}},
			map[string]any{"fields": []string{"currency_id"}}); err != nil {
			return err
		}
		if len(cs) == 1 {
			c.journalCcy = cs[0].Currency.Name
		}
	}
	return nil
}

// ErrNotFound is returned (wrapped) when a configured journal or account
// does not exist; ErrAmbiguous when a name matches several.
var (
	ErrNotFound  = errors.New("not found in Odoo")
	ErrAmbiguous = errors.New("ambiguous name in Odoo")
)

func (c *Client) resolve(ctx context.Context, model, ref string, base [][]any, fields ...string) (int, error) {
	tries := [][]any{}
	if id, err := strconv.Atoi(ref); err == nil {
		tries = append(tries, []any{"id", "=", id})
	}
	for _, f := range fields {
		tries = append(tries, []any{f, "=", ref})
	}
	for _, t := range tries {
		var ids []int
		searchDomain := append(append([]any{}, anySlice(base)...), t)
		if err := c.execute(ctx, &ids, read, model, "search", []any{searchDomain}, nil); err != nil {
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

func anySlice(in [][]any) []any {
	out := make([]any, len(in))
	for i, v := range in {
		out[i] = v
	}
	return out
}

// execute calls execute_kw(db, uid, key, model, method, args, kwargs).
func (c *Client) execute(ctx context.Context, out any, opts callOpts, model, method string, args []any, kwargs map[string]any) error {
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	return c.rpc.call(ctx, out, opts, model+"."+method, "object", "execute_kw",
		c.cfg.Database, c.uid, c.key, model, method, args, kwargs)
}

type moveRow struct {
	ID        int      `json:"id"`
	Name      Text     `json:"name"`
	MoveType  string   `json:"move_type"`
	State     string   `json:"state"`
	PayState  string   `json:"payment_state"`
	Partner   Many2one `json:"partner_id"`
	Currency  Many2one `json:"currency_id"`
	Date      Text     `json:"invoice_date"`
	Due       Text     `json:"invoice_date_due"`
	Total     Number   `json:"amount_total"`
	Residual  Number   `json:"amount_residual"`
	PaymentRf Text     `json:"payment_reference"`
}

var moveFields = []string{"name", "move_type", "state", "payment_state", "partner_id", "currency_id", "invoice_date",
	"invoice_date_due", "amount_total", "amount_residual", "payment_reference"}

// openDomain selects the open items: posted customer invoices and credit
// notes not (fully) paid.
func openDomain() []any {
	return []any{
		[]any{"move_type", "in", []string{"out_invoice", "out_refund"}},
		[]any{"state", "=", "posted"},
		[]any{"payment_state", "in", []string{"not_paid", "partial"}},
	}
}

// OpenItems reads posted customer invoices and credit notes that are not
// paid or partly paid, a page at a time, with their partners' bank
// accounts. Amounts are read as JSON text and rounded to the currency's
// digits; credit notes get a negative residual.
func (c *Client) OpenItems(ctx context.Context) ([]domain.OpenItem, error) {
	if err := c.setup(ctx); err != nil {
		return nil, err
	}
	searchDomain := openDomain()
	var items []domain.OpenItem
	for offset := 0; ; offset += c.cfg.PageSize {
		var page []moveRow
		if err := c.execute(ctx, &page, read, "account.move", "search_read", []any{searchDomain},
			map[string]any{"fields": moveFields, "offset": offset, "limit": c.cfg.PageSize, "order": "id asc"}); err != nil {
			return nil, fmt.Errorf("reading open invoices from offset %d: %w", offset, err)
		}
		ibans, err := c.partnerIBANs(ctx, page)
		if err != nil {
			return nil, err
		}
		for _, m := range page {
			it, err := toItem(m, ibans[m.Partner.ID])
			if err != nil {
				return nil, fmt.Errorf("reading invoice %d (%s): %w", m.ID, m.Name, err)
			}
			items = append(items, it)
		}
		if len(page) < c.cfg.PageSize {
			return items, nil
		}
	}
}

func toItem(m moveRow, ibans []string) (domain.OpenItem, error) {
	ccy := m.Currency.Name
	digits := domain.CurrencyDigits(ccy)
	total, err := m.Total.Amount(digits)
	if err != nil {
		return domain.OpenItem{}, err
	}
	res, err := m.Residual.Amount(digits)
	if err != nil {
		return domain.OpenItem{}, err
	}
	if m.MoveType == "out_refund" {
		total, res = total.Neg(), res.Neg()
	}
	it := domain.OpenItem{
		ID:               strconv.Itoa(m.ID),
		CustomerID:       strconv.Itoa(m.Partner.ID),
		CustomerName:     m.Partner.Name,
		DocumentNumber:   string(m.Name),
		PaymentReference: string(m.PaymentRf),
		IBANs:            ibans,
		Currency:         ccy,
		Amount:           total,
		Residual:         res,
	}
	if m.Date != "" {
		if it.IssueDate, err = time.Parse(time.DateOnly, string(m.Date)); err != nil {
			return it, fmt.Errorf("parsing invoice_date: %w", err)
		}
	}
	if m.Due != "" {
		if it.DueDate, err = time.Parse(time.DateOnly, string(m.Due)); err != nil {
			return it, fmt.Errorf("parsing invoice_date_due: %w", err)
		}
	}
	return it, nil
}

func (c *Client) partnerIBANs(ctx context.Context, page []moveRow) (map[int][]string, error) {
	seen := map[int]bool{}
	var ids []int
	for _, m := range page {
		if m.Partner.ID != 0 && !seen[m.Partner.ID] {
			seen[m.Partner.ID] = true
			ids = append(ids, m.Partner.ID)
		}
	}
	out := map[int][]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var banks []struct {
		Acc     Text     `json:"acc_number"`
		Partner Many2one `json:"partner_id"`
	}
	if err := c.execute(ctx, &banks, read, "res.partner.bank", "search_read", []any{[]any{[]any{"partner_id", "in", ids}}},
		map[string]any{"fields": []string{"acc_number", "partner_id"}}); err != nil {
		return nil, fmt.Errorf("reading partner bank accounts: %w", err)
	}
	for _, b := range banks {
		iban := strings.ToUpper(strings.Join(strings.Fields(string(b.Acc)), ""))
		if iban != "" {
			out[b.Partner.ID] = append(out[b.Partner.ID], iban)
		}
	}
	return out, nil
}

const memoPrefix = "lettrage:"

// memo is the payment memo of the n-th of count allocations of key.
func memo(key string, n, count int) string {
	return fmt.Sprintf("%s%s:%d/%d", memoPrefix, key, n, count)
}

// parseMemo reverses memo; ok is false for other memos.
func parseMemo(m string) (key string, n, count int, ok bool) {
	if !strings.HasPrefix(m, memoPrefix) {
		return "", 0, 0, false
	}
	rest := m[len(memoPrefix):]
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return "", 0, 0, false
	}
	frac := strings.SplitN(rest[i+1:], "/", 2)
	if len(frac) != 2 {
		return "", 0, 0, false
	}
	n, err1 := strconv.Atoi(frac[0])
	count, err2 := strconv.Atoi(frac[1])
	if err1 != nil || err2 != nil || n < 1 || n > count ||
		strconv.Itoa(n) != frac[0] || strconv.Itoa(count) != frac[1] { // only the canonical form memo writes
		return "", 0, 0, false
	}
	return rest[:i], n, count, true
}

// payments returns, per decision key, the allocation numbers already paid
// and the count announced, from payments whose memo carries one of keys.
// Cancelled or rejected payments do not count.
func (c *Client) payments(ctx context.Context, keys []string) (map[string]map[int]bool, map[string]int, error) {
	paid := map[string]map[int]bool{}
	counts := map[string]int{}
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	for start := 0; start < len(keys); start += 200 {
		chunk := keys[start:min(start+200, len(keys))]
		var searchDomain []any
		for i := 0; i < len(chunk)-1; i++ {
			searchDomain = append(searchDomain, "|")
		}
		for _, k := range chunk {
			// =like is a SQL LIKE: escape its wildcards in the key.
			pat := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(memoPrefix + k + ":")
			searchDomain = append(searchDomain, []any{c.memoField, "=like", pat + "%"})
		}
		var rows []map[string]json.RawMessage
		if err := c.execute(ctx, &rows, read, "account.payment", "search_read", []any{searchDomain},
			map[string]any{"fields": []string{c.memoField, "state"}}); err != nil {
			return nil, nil, fmt.Errorf("searching payments by decision key: %w", err)
		}
		var found []doc
		for _, r := range rows {
			var m Text
			var state string
			_ = json.Unmarshal(r[c.memoField], &m)
			_ = json.Unmarshal(r["state"], &state)
			found = append(found, doc{Memo: string(m), State: state})
		}
		if c.entriesEnabled() {
			patterns := make([]string, len(chunk))
			for i, k := range chunk {
				patterns[i] = likeEscape(memoPrefix+k+":") + "%"
			}
			entries, err := c.entriesLike(ctx, patterns)
			if err != nil {
				return nil, nil, err
			}
			found = append(found, entries...)
		}
		for _, d := range found {
			// A draft is a posting created but not posted yet (or a
			// payment a reversal is undoing): not written.
			if cancelled(d.State) || d.State == "draft" {
				continue
			}
			key, n, count, ok := parseMemoText(d.Memo)
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
	if err := c.settledLines(ctx, keys, paid, counts); err != nil {
		return nil, nil, err
	}
	return paid, counts, nil
}

// Applied reports the decision keys all of whose allocations have a
// payment or a settled statement line and all of whose postings are
// posted, and the reversal keys whose
// reversal is complete (see Unletter).
func (c *Client) Applied(ctx context.Context, keys []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(keys) == 0 {
		return out, nil
	}
	if err := c.setup(ctx); err != nil {
		return nil, err
	}
	paid, counts, err := c.payments(ctx, keys)
	if err != nil {
		return nil, err
	}
	for k, ns := range paid {
		if len(ns) == counts[k] {
			out[k] = true
		}
	}
	if err := c.reversalsDone(ctx, keys, out); err != nil {
		return nil, fmt.Errorf("checking reversals: %w", err)
	}
	return out, nil
}

// Failpoints inside the write-back (see connectors/internal/failpoint): the
// crash tests kill the process there, against a real Odoo, to prove that
// what a run left half done is finished and never written twice.
const (
	FailAfterPayment     = "odoo-after-payment"      // one payment registered, the others not
	FailAfterLines       = "odoo-after-lines"        // statement lines created, not settled
	FailAfterSettleWrite = "odoo-after-settle-write" // a line's items rewritten, not reconciled
	// FailUnletterAfterUndo: a line's settlement undone, its payment_ref
	// not marked yet.
	FailUnletterAfterUndo = "odoo-unletter-after-undo"
)

// ErrNotAuto is returned (wrapped) for a decision without allocations or
// postings: the ledgers' shared connectors.ErrNotAuto.
var ErrNotAuto = connectors.ErrNotAuto

// ErrItemNotOpen and ErrAboveResidual are returned (wrapped in an
// *ItemError) when an invoice was paid meanwhile or now owes less than the
// allocation. ErrItemNotOpen is the ledgers' shared one.
var (
	ErrItemNotOpen   = connectors.ErrItemNotOpen
	ErrAboveResidual = errors.New("allocation is above the invoice's residual")
)

// ItemError locates a write-back problem: the decision and the invoice
// (the ledgers' shared connectors.ItemError).
type ItemError = connectors.ItemError

// Apply registers one payment per allocation not yet paid (with
// Config.RecordExceptions: settles the transaction's statement line,
// writing it first when there is none), then writes the decision's
// postings not yet written (see post). Payments already
// registered under their memo are skipped, so a replay, or a retry after a
// crash between two payments, registers only what is missing.
//
// A decision Odoo refuses for a business reason — its invoice is gone, no
// longer open, owes less than the allocation, or Odoo raises a UserError
// (ValidationError…) while registering — comes back as a
// *connectors.RejectedError and the other decisions are paid all the same.
// Every invoice is checked before anything is paid, so a rejected decision
// normally has no payment; RejectedError.Partial says when an earlier
// allocation of it was paid before Odoo refused a later one. Postings are
// checked before any of their decision is written: a write-off without
// write_off_account or journal, an unknown customer, an amount that is not
// positive, or any posting with record_exceptions is refused (see
// checkPostings).
func (c *Client) Apply(ctx context.Context, batch []connectors.KeyedDecision) error {
	if len(batch) == 0 {
		return nil
	}
	if err := checkAuto(batch); err != nil {
		return err
	}
	if err := c.setup(ctx); err != nil {
		return err
	}
	keys := make([]string, len(batch))
	for i, kd := range batch {
		keys[i] = kd.Key
	}
	paid, _, err := c.payments(ctx, keys)
	if err != nil {
		return err
	}
	r := &applyRun{c: c, batch: batch, paid: paid, rejectedKey: map[string]bool{}, partial: map[string]bool{}}
	if err := r.refuseUnfit(ctx); err != nil {
		return err
	}
	jobs, ids := r.payJobs()
	if err := r.readInvoices(ctx, ids); err != nil {
		return err
	}
	ok := r.checkOpen(jobs)
	// Transactions whose cash Lettrage already wrote as a statement line
	// are settled through that line: registering a payment as well would
	// post the cash twice.
	okDecisions := decisionsOf(ok)
	lines, err := c.openLines(ctx, okDecisions)
	if err != nil {
		return err
	}
	if c.cfg.RecordExceptions {
		if lines, err = r.writeMissingLines(ctx, okDecisions, lines); err != nil {
			return err
		}
	}
	settled, err := r.settleLines(ctx, ok, lines)
	if err != nil {
		return err
	}
	if err := r.register(ctx, ok, settled); err != nil {
		return err
	}
	if err := r.post(ctx); err != nil {
		return err
	}
	return joinRejected(len(batch), r.rejected)
}

// checkAuto refuses a batch with a decision that is not automatic or has
// neither allocations nor postings (ErrNotAuto).
func checkAuto(batch []connectors.KeyedDecision) error {
	for _, kd := range batch {
		if kd.Decision.Outcome != domain.Auto || len(kd.Decision.Allocations)+len(kd.Decision.Postings) == 0 {
			return fmt.Errorf("applying decision %q (%s): %w", kd.Key, kd.Decision.Outcome, ErrNotAuto)
		}
	}
	return nil
}

// applyRun is the state of one Apply: the batch, what its decisions had
// paid before and pay now (paid: allocation and posting numbers by key),
// the invoices they pay (byID, and left, the residual still free in this
// batch), and the refusals (rejected, rejectedKey; partial: a statement
// line settled in part).
type applyRun struct {
	c           *Client
	batch       []connectors.KeyedDecision
	paid        map[string]map[int]bool
	byID        map[int]moveRow
	left        map[int]domain.Amount
	rejected    []error
	rejectedKey map[string]bool
	partial     map[string]bool
}

// payJob is one allocation to pay: its decision, the invoice and the memo
// the payment is registered under.
type payJob struct {
	kd    connectors.KeyedDecision
	al    domain.Allocation
	memo  string
	invID int
}

// refuse records kd as refused for err; Partial says whether something
// of it was paid or settled before.
func (r *applyRun) refuse(kd connectors.KeyedDecision, err error) {
	r.rejectedKey[kd.Key] = true
	r.rejected = append(r.rejected, &connectors.RejectedError{Key: kd.Key, Reason: reasonOf(err), Err: err,
		Partial: len(r.paid[kd.Key]) > 0 || r.partial[kd.Key]})
}

// markPaid records allocation or posting number n of key as written.
func (r *applyRun) markPaid(key string, n int) {
	if r.paid[key] == nil {
		r.paid[key] = map[int]bool{}
	}
	r.paid[key][n] = true
}

// refuseUnfit refuses, before anything of theirs is written, the
// decisions across currencies and those whose postings checkPostings
// refuses.
func (r *applyRun) refuseUnfit(ctx context.Context) error {
	badPostings, err := r.c.checkPostings(ctx, r.batch)
	if err != nil {
		return err
	}
	for _, kd := range r.batch {
		if re := connectors.RefuseCrossCurrency("Odoo", kd); re != nil && !r.rejectedKey[kd.Key] {
			re.Partial = len(r.paid[kd.Key]) > 0
			r.rejectedKey[kd.Key] = true
			r.rejected = append(r.rejected, re)
			continue
		}
		if err := badPostings[kd.Key]; err != nil {
			r.refuse(kd, err)
		}
	}
	return nil
}

// payJobs lists the allocations of the decisions not refused that are not
// paid yet, decision by decision, and the invoices they pay (sorted); a
// decision with an item that is not an Odoo invoice id is refused.
func (r *applyRun) payJobs() ([]payJob, []int) {
	var jobs []payJob
	invSet := map[int]bool{}
	for _, kd := range r.batch {
		if r.rejectedKey[kd.Key] {
			continue
		}
		n := len(kd.Decision.Allocations) + len(kd.Decision.Postings)
		var mine []payJob
		for i, al := range kd.Decision.Allocations {
			if r.paid[kd.Key][i+1] {
				continue
			}
			id, err := strconv.Atoi(al.ItemID)
			if err != nil {
				r.refuse(kd, &ItemError{Key: kd.Key, ItemID: al.ItemID, Err: fmt.Errorf("not an Odoo invoice id: %w", err)})
				mine = nil
				break
			}
			mine = append(mine, payJob{kd: kd, al: al, memo: memo(kd.Key, i+1, n), invID: id})
		}
		for _, j := range mine {
			jobs = append(jobs, j)
			invSet[j.invID] = true
		}
	}
	ids := make([]int, 0, len(invSet))
	for id := range invSet {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return jobs, ids
}

// readInvoices reads the invoices ids from Odoo into r.byID, and their
// residuals into r.left. A deleted invoice is absent: search_read, not
// read, which fails as a whole on one deleted invoice.
func (r *applyRun) readInvoices(ctx context.Context, ids []int) error {
	var moves []moveRow
	if len(ids) > 0 {
		if err := r.c.execute(ctx, &moves, read, "account.move", "search_read", []any{[]any{[]any{"id", "in", ids}}},
			map[string]any{"fields": moveFields}); err != nil {
			return fmt.Errorf("reading the invoices to pay: %w", err)
		}
	}
	r.byID, r.left = map[int]moveRow{}, map[int]domain.Amount{}
	for _, m := range moves {
		r.byID[m.ID] = m
		res, err := m.Residual.Amount(domain.CurrencyDigits(m.Currency.Name))
		if err != nil {
			return fmt.Errorf("reading invoice %d: %w", m.ID, err)
		}
		r.left[m.ID] = res
	}
	return nil
}

// checkOpen checks, decision by decision, that every invoice jobs pay is
// still open for the amount (after what earlier decisions of the batch
// take from r.left), before any is paid. It refuses the decisions that
// fail and returns the jobs of the others.
func (r *applyRun) checkOpen(jobs []payJob) []payJob {
	var ok []payJob
	for start := 0; start < len(jobs); {
		end := start
		for end < len(jobs) && jobs[end].kd.Key == jobs[start].kd.Key {
			end++
		}
		need, problem := payable(jobs[start:end], r.byID, r.left)
		if problem != nil {
			r.refuse(jobs[start].kd, problem)
		} else {
			for id, n := range need {
				r.left[id] = r.left[id].Sub(n)
			}
			ok = append(ok, jobs[start:end]...)
		}
		start = end
	}
	return ok
}

// payable checks the jobs of one decision against the invoices (byID)
// and the residuals still free (left): each invoice must exist, be posted
// and not paid (or paid in part), and owe at least what the decision takes
// from it (amounts and write-offs). It returns what the decision takes per
// invoice, or the *ItemError of the first problem.
func payable(jobs []payJob, byID map[int]moveRow, left map[int]domain.Amount) (map[int]domain.Amount, error) {
	need := map[int]domain.Amount{}
	for _, j := range jobs {
		m, found := byID[j.invID]
		if !found {
			return nil, &ItemError{Key: j.kd.Key, ItemID: j.al.ItemID, Err: ErrNotFound}
		}
		if m.State != "posted" || (m.PayState != "not_paid" && m.PayState != "partial") {
			return nil, &ItemError{Key: j.kd.Key, ItemID: j.al.ItemID,
				Err: fmt.Errorf("%w (state %s, payment state %s)", ErrItemNotOpen, m.State, m.PayState)}
		}
		need[j.invID] = need[j.invID].Add(j.al.Amount.Abs()).Add(j.al.WriteOff.Abs())
	}
	for _, j := range jobs {
		if n := need[j.invID]; n.Cmp(left[j.invID]) > 0 {
			return nil, &ItemError{Key: j.kd.Key, ItemID: j.al.ItemID,
				Err: fmt.Errorf("%w (%s > %s)", ErrAboveResidual, n, left[j.invID])}
		}
	}
	return need, nil
}

// decisionsOf lists the decisions of jobs, once each, in their order.
func decisionsOf(jobs []payJob) []connectors.KeyedDecision {
	var out []connectors.KeyedDecision
	for i, j := range jobs {
		if i == 0 || jobs[i-1].kd.Key != j.kd.Key {
			out = append(out, j.kd)
		}
	}
	return out
}

// writeMissingLines (Config.RecordExceptions: every booked credit goes to
// the bank journal) writes the statement line of each decision's
// transaction that has none in lines and was not paid before by payments,
// refuses those Odoo refuses, and returns the open lines read again.
// Transactions in another currency or without a date have no line: they
// are paid by payments.
func (r *applyRun) writeMissingLines(ctx context.Context, decisions []connectors.KeyedDecision, lines map[string]stLine) (map[string]stLine, error) {
	var entries []lineEntry
	byKey := map[string]connectors.KeyedDecision{}
	for _, kd := range decisions {
		if _, has := lines[kd.Tx.Key]; has || len(r.paid[kd.Key]) > 0 {
			continue // settled through its line, or paid before by payments
		}
		inv, _ := strconv.Atoi(kd.Decision.Allocations[0].ItemID)
		en, ok := r.c.lineEntry(kd.Tx, kd.Tx.Amount, letteredText(kd), r.byID[inv].Partner.ID)
		if !ok {
			continue // another currency, no date: paid by payments
		}
		en.key = kd.Key
		byKey[kd.Key] = kd
		entries = append(entries, en)
	}
	if len(entries) == 0 {
		return lines, nil
	}
	refusedLines, err := r.c.writeLines(ctx, entries)
	if err != nil {
		return nil, fmt.Errorf("writing the statement lines of %d lettered transactions: %w", len(entries), err)
	}
	for _, rl := range refusedLines {
		var re *connectors.RejectedError
		if errors.As(rl, &re) {
			r.refuse(byKey[re.Key], re.Err)
		}
	}
	return r.c.openLines(ctx, decisions)
}

// settleLines settles, through its statement line, each decision of ok
// whose transaction has one (lines) and that is not refused, with the
// numbers of its allocations; it returns the decisions so settled. Odoo's
// refusals refuse the decision (partial when the line was settled in
// part).
func (r *applyRun) settleLines(ctx context.Context, ok []payJob, lines map[string]stLine) (map[string]bool, error) {
	settled := map[string]bool{}
	for _, j := range ok {
		l, has := lines[j.kd.Tx.Key]
		if !has {
			continue
		}
		if r.rejectedKey[j.kd.Key] || settled[j.kd.Key] {
			continue
		}
		settled[j.kd.Key] = true
		var allocs []int
		for _, o := range ok {
			if o.kd.Key == j.kd.Key {
				_, n, _, _ := parseMemo(o.memo)
				allocs = append(allocs, n)
			}
		}
		if err := r.c.settle(ctx, j.kd, l, allocs); err != nil {
			r.partial[j.kd.Key] = errors.Is(err, errSettledInPart)
			if refusal(err) {
				r.refuse(j.kd, err)
				continue
			}
			return nil, err
		}
	}
	return settled, nil
}

// register registers a payment for each job of ok whose decision is
// neither refused nor settled through its line, and marks it paid; a
// business error of Odoo's refuses the decision (its later allocations
// are not paid).
func (r *applyRun) register(ctx context.Context, ok []payJob, settled map[string]bool) error {
	for _, j := range ok {
		if r.rejectedKey[j.kd.Key] || settled[j.kd.Key] {
			continue // Odoo refused an earlier allocation of the same decision
		}
		if err := r.c.register(ctx, j.kd, j.al, j.invID, j.memo); err != nil {
			var oe *Error
			if errors.As(err, &oe) && oe.Business() {
				if r.paid[j.kd.Key] == nil {
					r.paid[j.kd.Key] = map[int]bool{}
				}
				r.refuse(j.kd, err)
				continue
			}
			return err
		}
		_, n, _, _ := parseMemo(j.memo)
		r.markPaid(j.kd.Key, n)
	}
	return nil
}

// post writes the postings not written yet of every decision not refused,
// after its allocations, numbered after them; a refusal (or no
// outstanding account) refuses the decision's later postings.
func (r *applyRun) post(ctx context.Context) error {
	for _, kd := range r.batch {
		if r.rejectedKey[kd.Key] || len(kd.Decision.Postings) == 0 {
			continue
		}
		a := len(kd.Decision.Allocations)
		count := a + len(kd.Decision.Postings)
		for i, p := range kd.Decision.Postings {
			n := a + i + 1
			if r.paid[kd.Key][n] {
				continue
			}
			if err := r.c.post(ctx, kd, p, n, count); err != nil {
				if refusal(err) || errors.Is(err, ErrNoOutstandingAccount) {
					r.refuse(kd, err)
					break
				}
				return err
			}
			r.markPaid(kd.Key, n)
		}
	}
	return nil
}

// letteredText describes a lettered transaction on its statement line.
func letteredText(kd connectors.KeyedDecision) string {
	parts := []string{kd.Tx.Ref, "(lettered: " + kd.Decision.Rule + ")"}
	for _, r := range kd.Tx.Structured {
		parts = append(parts, r.Value)
	}
	parts = append(parts, kd.Tx.Unstructured...)
	s := strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
	if r := []rune(s); len(r) > 400 {
		s = string(r[:400])
	}
	return s
}

// refusal reports whether err is a business refusal of one decision: an
// Odoo UserError and its kin, or an *ItemError Lettrage raised itself.
func refusal(err error) bool {
	var oe *Error
	if errors.As(err, &oe) {
		return oe.Business()
	}
	var ie *ItemError
	return errors.As(err, &ie)
}

// joinRejected is nil without rejections, else the rejections joined.
func joinRejected(n int, rejected []error) error {
	if len(rejected) == 0 {
		return nil
	}
	return fmt.Errorf("applying %d decisions, %d refused by Odoo: %w", n, len(rejected), errors.Join(rejected...))
}

// reasonOf is the message for accountants: Odoo's own text when there is one.
func reasonOf(err error) string { return connectors.ReasonOf(err, odooMessage) }

// odooMessage is the message of an error answer from Odoo in err.
func odooMessage(err error) (string, bool) {
	var oe *Error
	if errors.As(err, &oe) {
		return oe.Message, true
	}
	return "", false
}

// register pays one invoice through the account.payment.register wizard.
func (c *Client) register(ctx context.Context, kd connectors.KeyedDecision, al domain.Allocation, invID int, memo string) error {
	date := kd.Tx.BookingDate
	if date.IsZero() {
		date = kd.DecidedAt
	}
	wctx := map[string]any{"active_model": "account.move", "active_ids": []int{invID}}
	vals := map[string]any{
		"amount":        json.Number(al.Amount.Abs().String()), // the exact decimal text, never a Go float
		"payment_date":  date.Format(time.DateOnly),
		"communication": memo,
	}
	if c.journalID != 0 {
		vals["journal_id"] = c.journalID
	}
	if !al.WriteOff.IsZero() && c.writeOffID != 0 {
		vals["payment_difference_handling"] = "reconcile"
		vals["writeoff_account_id"] = c.writeOffID
		vals["writeoff_label"] = "Lettrage write-off " + kd.Tx.Ref
	}
	// Creating the transient wizard has no lasting effect: safe to repeat.
	var wid int
	if err := c.execute(ctx, &wid, read, "account.payment.register", "create", []any{vals},
		map[string]any{"context": wctx}); err != nil {
		var oe *Error
		if errors.As(err, &oe) {
			return &ItemError{Key: kd.Key, ItemID: al.ItemID, Err: err}
		}
		return fmt.Errorf("registering payment %s for invoice %d: %w", memo, invID, err)
	}
	recheck := func(ctx context.Context) (bool, error) {
		paid, _, err := c.payments(ctx, []string{kd.Key})
		if err != nil {
			return false, err
		}
		_, n, _, _ := parseMemo(memo)
		return paid[kd.Key][n], nil
	}
	err := c.execute(ctx, nil, callOpts{recheck: recheck}, "account.payment.register", "action_create_payments",
		[]any{[]int{wid}}, map[string]any{"context": wctx})
	if err == nil || errors.Is(err, httpx.ErrAlreadyDone) {
		failpoint.Crash(FailAfterPayment)
		return nil
	}
	if err != nil {
		var oe *Error
		if errors.As(err, &oe) {
			return &ItemError{Key: kd.Key, ItemID: al.ItemID, Err: err}
		}
		return fmt.Errorf("registering payment %s for invoice %d: %w", memo, invID, err)
	}
	return nil
}
