// Package postgres is a ledger whose open items come from a SQL query in a
// PostgreSQL database (an ERP that lives in SQL) and whose allocations are
// written back inside one transaction per batch, exactly once: every
// allocation is recorded in a table with a UNIQUE (decision_key, item_id),
// so a replay is a no-op, and the configured statement (if any) runs only for
// allocations that were not there yet — in the same transaction. A
// cross-currency allocation (an FX rule) is recorded with what it settles in
// the item's currency beside the cash. Cash an
// accountant put on a customer's account or wrote off (domain.Posting) is
// recorded the same way in a postings table, UNIQUE (decision_key, seq), in
// the same transaction as the decision's allocations, with its own optional
// statement. A lettering can be reversed (Unletter): negated rows under the
// reversal's key in both tables, and the configured unapply and unpost
// statements, once.
//
// Amounts travel as numeric text, never as floats.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/internal/failpoint"
	"github.com/lettrage/lettrage/domain"
)

// DefaultAllocationsTable records every allocation written back.
const DefaultAllocationsTable = "lettrage_allocations"

// DefaultPostingsTable records every posting (on-account or write-off cash)
// written back.
const DefaultPostingsTable = "lettrage_postings"

// Config is the YAML configuration of a PostgreSQL ledger.
type Config struct {
	// DSN is a libpq connection string or URL; DSNFile names a file that
	// holds it (a mounted secret). Exactly one is set.
	DSN     string `yaml:"dsn"`
	DSNFile string `yaml:"dsn_file"`
	// OpenItemsQuery returns the open items, one row each, with columns
	// named: id, currency, amount, residual (required) and customer_id,
	// customer_name, document_number, issue_date, due_date,
	// payment_reference, customer_iban (optional; customer_iban may hold
	// several IBANs separated by commas or spaces, or be a text[]). Every
	// column is read as text: amounts are never floats.
	OpenItemsQuery string `yaml:"open_items_query"`
	// ApplyStatement, when set, runs once per new allocation inside the
	// batch's transaction, with these named parameters (pgx @name syntax,
	// all sent as text — cast them, e.g. @amount::numeric):
	//   @decision_key @tx_key @tx_ref @account @item_id @document_number
	//   @customer_id @amount @write_off @currency @item_amount @item_currency
	//   @booking_date @value_date @lettered_at @rule @confidence @payer_name
	//   @payer_iban @end_to_end_id
	// @amount is the cash applied, in the transaction's @currency.
	// @item_amount is what the allocation settles in the item's currency
	// @item_currency: for a cross-currency letter (an FX rule, the cash in
	// another currency than the item) the amount the payer instructed; for
	// a same-currency letter @amount and @currency again. So a statement
	// that takes @item_amount + @write_off off the item's residual serves
	// both (a cross-currency allocation never carries a write-off).
	// Dates are YYYY-MM-DD, lettered_at is RFC 3339. When empty, the
	// allocations table is the write-back.
	ApplyStatement string `yaml:"apply_statement"`
	// UnapplyStatement, when set, runs once per allocation a reversal
	// (Unletter) gives back, inside the reversal's transaction, with the
	// parameters of ApplyStatement plus @reverses_key (the key of the
	// decision undone) and @reason; there @decision_key is the reversal's
	// own key and @amount, @write_off and @item_amount are the undone
	// allocation's amounts, positive: what goes back to the item is
	// @item_amount + @write_off in @item_currency. When empty, the negated
	// rows in the allocations table are the write-back.
	UnapplyStatement string `yaml:"unapply_statement"`
	// AllocationsTable (default lettrage_allocations, optionally
	// schema-qualified) is created if missing. Reversals are recorded in
	// it too, as rows with negated amounts under the reversal's key, with
	// reverses_key naming the decision they undo. Its item_amount and
	// item_currency columns hold what a cross-currency allocation settles
	// in the item's currency, NULL for a same-currency one (what it settles
	// is then amount + write_off); a table from an earlier version gains
	// them at start-up.
	AllocationsTable string `yaml:"allocations_table"`
	// PostStatement, when set, runs once per new posting (cash put on a
	// customer's account or written off by an accountant's resolution)
	// inside the batch's transaction, with these named parameters (all
	// text, as for ApplyStatement):
	//   @decision_key @seq @kind @customer_id @amount @currency @reason
	//   @tx_key @tx_ref @account @booking_date @value_date @lettered_at
	//   @rule @confidence @payer_name @payer_iban @end_to_end_id
	// @kind is on_account or write_off, @customer_id is empty for a
	// write-off, @reason is the accountant's reason code, @seq the
	// posting's position in its decision (1, 2…). When empty, the postings
	// table is the write-back.
	PostStatement string `yaml:"post_statement"`
	// UnpostStatement, when set, runs once per posting a reversal gives
	// back, inside the reversal's transaction, with PostStatement's
	// parameters as the posting was written (@amount positive: what is
	// taken back) plus @reverses_key and @unletter_reason (why); there
	// @decision_key is the reversal's own key. When empty, the negated rows
	// in the postings table are the write-back.
	UnpostStatement string `yaml:"unpost_statement"`
	// PostingsTable (default lettrage_postings, optionally
	// schema-qualified) is created if missing; reversals are recorded in it
	// as in AllocationsTable.
	PostingsTable string `yaml:"postings_table"`
	// ExceptionsTable, when set, receives unmatched transactions
	// (RecordExceptions) and loses them when they are lettered (Apply); it is
	// created if missing.
	ExceptionsTable string `yaml:"exceptions_table"`
	// MaxConns bounds the connection pool (default 4).
	MaxConns int32 `yaml:"max_conns"`
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// Validate checks the configuration without connecting. Errors name the
// YAML key.
func (c *Config) Validate() error {
	var errs []error
	switch {
	case c.DSN == "" && c.DSNFile == "":
		errs = append(errs, errors.New("dsn: required (or dsn_file)"))
	case c.DSN != "" && c.DSNFile != "":
		errs = append(errs, errors.New("dsn_file: set either dsn or dsn_file, not both"))
	}
	if strings.TrimSpace(c.OpenItemsQuery) == "" {
		errs = append(errs, errors.New("open_items_query: required"))
	}
	if c.AllocationsTable != "" && !identRE.MatchString(c.AllocationsTable) {
		errs = append(errs, fmt.Errorf("allocations_table: %q is not a plain [schema.]table name", c.AllocationsTable))
	}
	if c.ExceptionsTable != "" && !identRE.MatchString(c.ExceptionsTable) {
		errs = append(errs, fmt.Errorf("exceptions_table: %q is not a plain [schema.]table name", c.ExceptionsTable))
	}
	if c.PostingsTable != "" && !identRE.MatchString(c.PostingsTable) {
		errs = append(errs, fmt.Errorf("postings_table: %q is not a plain [schema.]table name", c.PostingsTable))
	}
	alloc, post := orDefault(c.AllocationsTable, DefaultAllocationsTable), orDefault(c.PostingsTable, DefaultPostingsTable)
	if strings.EqualFold(post, alloc) || strings.EqualFold(post, c.ExceptionsTable) {
		errs = append(errs, fmt.Errorf("postings_table: %q is already the allocations or exceptions table", post))
	}
	if c.MaxConns < 0 {
		errs = append(errs, errors.New("max_conns: must not be negative"))
	}
	return errors.Join(errs...)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Client is the PostgreSQL ledger.
type Client struct {
	cfg    Config
	pool   *pgxpool.Pool
	allocT string // quoted
	postT  string // quoted
	excT   string // quoted, "" when none
}

var _ connectors.Ledger = (*Client)(nil)

// New validates cfg, connects and creates the bookkeeping tables if missing.
func New(ctx context.Context, cfg Config) (*Client, error) {
	c, err := Open(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.createTables(ctx); err != nil {
		c.pool.Close()
		return nil, err
	}
	return c, nil
}

// Open validates cfg and returns a client that has not connected yet and
// creates nothing: enough for OpenItems (`lettrage check --connect`, which
// must change nothing). Apply, Applied, Unletter and RecordExceptions need
// the tables New creates.
func Open(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validating postgres ledger config: %w", err)
	}
	dsn := cfg.DSN
	if cfg.DSNFile != "" {
		b, err := os.ReadFile(cfg.DSNFile)
		if err != nil {
			return nil, fmt.Errorf("reading dsn_file: %w", err)
		}
		dsn = strings.TrimSpace(string(b))
	}
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The DSN may hold a password: do not repeat it.
		return nil, fmt.Errorf("parsing dsn: %w", errors.New("invalid connection string"))
	}
	pc.MaxConns = 4
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	// The pool connects on first use (MinConns 0).
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, fmt.Errorf("connecting to postgres: %w", err)
	}
	if cfg.AllocationsTable == "" {
		cfg.AllocationsTable = DefaultAllocationsTable
	}
	if cfg.PostingsTable == "" {
		cfg.PostingsTable = DefaultPostingsTable
	}
	c := &Client{cfg: cfg, pool: pool, allocT: quoteIdent(cfg.AllocationsTable), postT: quoteIdent(cfg.PostingsTable)}
	if cfg.ExceptionsTable != "" {
		c.excT = quoteIdent(cfg.ExceptionsTable)
	}
	return c, nil
}

func quoteIdent(name string) string {
	return pgx.Identifier(strings.Split(name, ".")).Sanitize()
}

func (c *Client) createTables(ctx context.Context) error {
	ddl := `CREATE TABLE IF NOT EXISTS ` + c.allocT + ` (
	decision_key text NOT NULL,
	item_id      text NOT NULL,
	tx_key       text NOT NULL,
	tx_ref       text NOT NULL,
	account      text NOT NULL,
	amount       numeric NOT NULL,
	write_off    numeric NOT NULL DEFAULT 0,
	currency     text NOT NULL,
	booking_date date,
	rule         text NOT NULL,
	lettered_at  timestamptz NOT NULL,
	written_at   timestamptz NOT NULL DEFAULT now(),
	reverses_key text,
	reason       text,
	item_amount  numeric,
	item_currency text,
	UNIQUE (decision_key, item_id))`
	if _, err := c.pool.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("creating table %s: %w", c.cfg.AllocationsTable, err)
	}
	if err := c.migrateReversals(ctx); err != nil {
		return err
	}
	if err := c.migrateFX(ctx); err != nil {
		return err
	}
	if err := c.createPostingsTable(ctx); err != nil {
		return err
	}
	if c.excT == "" {
		return nil
	}
	ddl = `CREATE TABLE IF NOT EXISTS ` + c.excT + ` (
	tx_key       text PRIMARY KEY,
	tx_ref       text NOT NULL,
	account      text NOT NULL,
	booking_date date,
	amount       numeric NOT NULL,
	currency     text NOT NULL,
	payer_name   text NOT NULL,
	payer_iban   text NOT NULL,
	refs         text NOT NULL,
	outcome      text NOT NULL,
	reason       text NOT NULL,
	explanation  text NOT NULL,
	candidates   text NOT NULL,
	updated_at   timestamptz NOT NULL DEFAULT now())`
	if _, err := c.pool.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("creating table %s: %w", c.cfg.ExceptionsTable, err)
	}
	return nil
}

// Close releases the connection pool.
func (c *Client) Close() error {
	c.pool.Close()
	return nil
}

// openItemColumns are the columns OpenItemsQuery may return; the first four
// are required.
var openItemColumns = []string{"id", "currency", "amount", "residual",
	"customer_id", "customer_name", "document_number", "issue_date", "due_date",
	"payment_reference", "customer_iban"}

// ErrMissingColumn is returned (wrapped) when OpenItemsQuery lacks a
// required column.
var ErrMissingColumn = errors.New("open_items_query lacks a required column")

// RowError locates a bad open-item row.
type RowError struct {
	Row    int    // 1-based
	ItemID string // when known
	Column string
	Err    error
}

func (e *RowError) Error() string {
	return fmt.Sprintf("open item row %d (id %q), column %s: %v", e.Row, e.ItemID, e.Column, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// OpenItems runs OpenItemsQuery. Every column is cast to text around the
// query, so amounts arrive as exact decimal text.
func (c *Client) OpenItems(ctx context.Context) ([]domain.OpenItem, error) {
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to postgres: %w", err)
	}
	defer conn.Release()
	cols, sel, err := c.projection(ctx, conn)
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM ("+c.query()+") AS q")
	if err != nil {
		return nil, fmt.Errorf("running open_items_query: %w", err)
	}
	defer rows.Close()
	var items []domain.OpenItem
	vals := make([]*string, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	for n := 1; rows.Next(); n++ {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("reading open item row %d: %w", n, err)
		}
		it, err := toItem(n, cols, vals)
		if err != nil {
			return nil, fmt.Errorf("reading open items: %w", err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading open items: %w", err)
	}
	return items, nil
}

// query is OpenItemsQuery as a subquery: without its final semicolon.
func (c *Client) query() string {
	return strings.TrimRight(strings.TrimSpace(c.cfg.OpenItemsQuery), ";")
}

// projection describes OpenItemsQuery to learn which of openItemColumns it
// has, and returns them with the text casts OpenItems selects them with
// (q."name"::text…), in the order of openItemColumns.
func (c *Client) projection(ctx context.Context, conn *pgxpool.Conn) (cols, sel []string, err error) {
	desc, err := conn.Conn().Prepare(ctx, "", c.cfg.OpenItemsQuery)
	if err != nil {
		return nil, nil, fmt.Errorf("preparing open_items_query: %w", err)
	}
	have := map[string]bool{}
	for _, f := range desc.Fields {
		have[strings.ToLower(f.Name)] = true
	}
	for i, name := range openItemColumns {
		if !have[name] {
			if i < 4 {
				return nil, nil, fmt.Errorf("reading open items: %w: %s", ErrMissingColumn, name)
			}
			continue
		}
		cast := "::text"
		if name == "issue_date" || name == "due_date" {
			cast = "::date::text"
		}
		cols = append(cols, name)
		sel = append(sel, fmt.Sprintf("q.%s%s", pgx.Identifier{name}.Sanitize(), cast))
	}
	return cols, sel, nil
}

func toItem(n int, cols []string, vals []*string) (domain.OpenItem, error) {
	var it domain.OpenItem
	get := func(i int) string {
		if vals[i] == nil {
			return ""
		}
		return strings.TrimSpace(*vals[i])
	}
	for i, col := range cols {
		v := get(i)
		bad := func(err error) error { return &RowError{Row: n, ItemID: it.ID, Column: col, Err: err} }
		switch col {
		case "id":
			if v == "" {
				return it, bad(errors.New("empty"))
			}
			it.ID = v
		case "currency":
			if len(v) != 3 {
				return it, bad(fmt.Errorf("%q is not an ISO 4217 code", v))
			}
			it.Currency = strings.ToUpper(v)
		case "amount", "residual":
			a, err := domain.ParseAmount(v)
			if err != nil {
				return it, bad(err)
			}
			if col == "amount" {
				it.Amount = a
			} else {
				it.Residual = a
			}
		case "customer_id":
			it.CustomerID = v
		case "customer_name":
			it.CustomerName = v
		case "document_number":
			it.DocumentNumber = v
		case "payment_reference":
			it.PaymentReference = v
		case "issue_date", "due_date":
			if v == "" {
				continue
			}
			d, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return it, bad(err)
			}
			if col == "issue_date" {
				it.IssueDate = d
			} else {
				it.DueDate = d
			}
		case "customer_iban":
			it.IBANs = splitIBANs(v)
		}
	}
	return it, nil
}

// splitIBANs reads one or several IBANs: "DE89 3704…", "a,b", "{a,b}".
func splitIBANs(v string) []string {
	v = strings.Trim(v, "{}")
	var out []string
	for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == '\n' }) {
		iban := strings.ToUpper(strings.Join(strings.Fields(strings.Trim(part, `" `)), ""))
		if iban != "" && iban != "NULL" {
			out = append(out, iban)
		}
	}
	return out
}

// ErrNotAuto is returned (wrapped) for a decision that carries neither
// allocations nor postings to write (only automatic decisions are written
// back).
var ErrNotAuto = connectors.ErrNotAuto

// Apply writes the batch in one transaction. An allocation already recorded
// under its (decision key, item), or a posting under its (decision key,
// seq), is skipped, so a replay is a no-op.
//
// A decision whose postings cannot be written (an unknown kind, an
// on-account posting without customer) is rejected before anything of it
// is written.
//
// Each decision runs under its own savepoint: when apply_statement (or a
// trigger, or a constraint of the allocations table) refuses one with a
// business error — SQLSTATE class 22 (data exception), 23 (integrity
// constraint), P0001 (RAISE EXCEPTION) or P0004 (ASSERT) — that decision is
// rolled back alone and comes back as a *connectors.RejectedError carrying
// the database's message, while the others are committed. Any other error
// rolls the whole batch back.
func (c *Client) Apply(ctx context.Context, batch []connectors.KeyedDecision) error {
	for _, kd := range batch {
		if kd.Decision.Outcome != domain.Auto || len(kd.Decision.Allocations)+len(kd.Decision.Postings) == 0 {
			return fmt.Errorf("applying decision %q (%s): %w", kd.Key, kd.Decision.Outcome, ErrNotAuto)
		}
	}
	tx, err := c.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("beginning write-back transaction: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var rejected []error
	for _, kd := range batch {
		if r := fxRefusal(kd); r != nil {
			rejected = append(rejected, r)
			continue
		}
		if reason := postingsRefusal(kd.Decision.Postings); reason != "" {
			rejected = append(rejected, &connectors.RejectedError{Key: kd.Key, Reason: reason, Err: ErrBadPosting})
			continue
		}
		sp, err := tx.Begin(ctx) // a savepoint
		if err != nil {
			return fmt.Errorf("starting savepoint for decision %q: %w", kd.Key, err)
		}
		if err := c.applyOne(ctx, sp, kd); err != nil {
			_ = sp.Rollback(ctx)
			reason, ok := businessError(err)
			if !ok {
				return err
			}
			rejected = append(rejected, &connectors.RejectedError{Key: kd.Key, Reason: reason, Err: err})
			continue
		}
		if err := sp.Commit(ctx); err != nil {
			return fmt.Errorf("releasing savepoint for decision %q: %w", kd.Key, err)
		}
	}
	failpoint.Crash(FailBeforeCommit)
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing write-back of %d decisions: %w", len(batch), err)
	}
	if len(rejected) > 0 {
		return fmt.Errorf("applying %d decisions, %d refused by the database: %w", len(batch), len(rejected), errors.Join(rejected...))
	}
	return nil
}

// FailBeforeCommit is a failpoint (connectors/internal/failpoint): the
// process dies with the batch written but not committed.
const FailBeforeCommit = "postgres-before-commit"

func (c *Client) applyOne(ctx context.Context, tx pgx.Tx, kd connectors.KeyedDecision) error {
	insert := `INSERT INTO ` + c.allocT + ` (decision_key, item_id, tx_key, tx_ref, account, amount, write_off,
	currency, booking_date, rule, lettered_at, item_amount, item_currency)
	VALUES ($1, $2, $3, $4, $5, $6::numeric, $7::numeric, $8, $9, $10, $11, $12::numeric, $13)
	ON CONFLICT (decision_key, item_id) DO NOTHING`
	for _, al := range mergeAllocations(kd.Decision.Allocations) {
		args := c.params(kd, al)
		itemAmount, itemCurrency := itemColumns(al)
		tag, err := tx.Exec(ctx, insert, kd.Key, al.ItemID, kd.Tx.Key, kd.Tx.Ref, kd.Tx.Account,
			al.Amount.String(), al.WriteOff.String(), kd.Tx.Currency, nullDate(kd.Tx.BookingDate),
			kd.Decision.Rule, kd.DecidedAt.UTC(), itemAmount, itemCurrency)
		if err != nil {
			return fmt.Errorf("recording allocation of decision %q to item %q: %w", kd.Key, al.ItemID, err)
		}
		if tag.RowsAffected() == 0 || c.cfg.ApplyStatement == "" {
			continue // already written, or the table is the write-back
		}
		if _, err := tx.Exec(ctx, c.cfg.ApplyStatement, args); err != nil {
			return fmt.Errorf("running apply_statement for decision %q, item %q: %w", kd.Key, al.ItemID, err)
		}
	}
	if err := c.post(ctx, tx, kd); err != nil {
		return err
	}
	if c.excT != "" {
		if _, err := tx.Exec(ctx, `DELETE FROM `+c.excT+` WHERE tx_key = $1`, kd.Tx.Key); err != nil {
			return fmt.Errorf("clearing exception of %q: %w", kd.Tx.Key, err)
		}
	}
	return nil
}

// businessError reports whether err is the database refusing the data
// (rather than failing), and its message for accountants.
func businessError(err error) (string, bool) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return "", false
	}
	switch {
	case strings.HasPrefix(pe.Code, "22"), strings.HasPrefix(pe.Code, "23"), pe.Code == "P0001", pe.Code == "P0004":
		msg := pe.Message
		if pe.Detail != "" {
			msg += " (" + pe.Detail + ")"
		}
		return msg, true
	}
	return "", false
}

// mergeAllocations sums allocations to the same item, so that the unique
// (decision_key, item_id) holds: the cash, the write-offs and, for
// cross-currency allocations, what they settle in the item's currency, so
// that the merged allocation Settles the sum of what the parts settle.
// fxRefusal has checked that an item's allocations share one currency.
func mergeAllocations(in []domain.Allocation) []domain.Allocation {
	idx := map[string]int{}
	var out []domain.Allocation
	for _, a := range in {
		if i, ok := idx[a.ItemID]; ok {
			out[i].Amount = out[i].Amount.Add(a.Amount)
			out[i].WriteOff = out[i].WriteOff.Add(a.WriteOff)
			out[i].ItemAmount = out[i].ItemAmount.Add(a.ItemAmount)
			continue
		}
		idx[a.ItemID] = len(out)
		out = append(out, a)
	}
	return out
}

func (c *Client) params(kd connectors.KeyedDecision, al domain.Allocation) pgx.NamedArgs {
	it := kd.Items[al.ItemID]
	// @item_amount and @item_currency: what the allocation settles, in the
	// item's currency; for a same-currency allocation the cash and the
	// transaction's currency (the write-off stays apart, in @write_off).
	itemAmount, itemCurrency := al.Amount, kd.Tx.Currency
	if al.CrossCurrency() {
		itemAmount, itemCurrency = al.ItemAmount, al.ItemCurrency
	}
	return pgx.NamedArgs{
		"decision_key":    kd.Key,
		"tx_key":          kd.Tx.Key,
		"tx_ref":          kd.Tx.Ref,
		"account":         kd.Tx.Account,
		"item_id":         al.ItemID,
		"document_number": it.DocumentNumber,
		"customer_id":     it.CustomerID,
		"amount":          al.Amount.String(),
		"write_off":       al.WriteOff.String(),
		"currency":        kd.Tx.Currency,
		"item_amount":     itemAmount.String(),
		"item_currency":   itemCurrency,
		"booking_date":    dateText(kd.Tx.BookingDate),
		"value_date":      dateText(kd.Tx.ValueDate),
		"lettered_at":     kd.DecidedAt.UTC().Format(time.RFC3339Nano),
		"rule":            kd.Decision.Rule,
		"confidence":      fmt.Sprintf("%.4f", kd.Decision.Confidence),
		"payer_name":      kd.Tx.Counterparty.Name,
		"payer_iban":      kd.Tx.Counterparty.IBAN,
		"end_to_end_id":   kd.Tx.EndToEndID,
	}
}

func dateText(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(time.DateOnly)
}

func nullDate(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(time.DateOnly)
}

// Applied reports which keys have at least one recorded allocation or
// posting — decision keys and reversal keys alike (a reversal is recorded
// as negated rows under its own key). A batch, like a reversal, is written
// in one transaction, so a key is either complete or absent.
func (c *Client) Applied(ctx context.Context, keys []string) (map[string]bool, error) {
	out := make(map[string]bool, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := c.pool.Query(ctx, `SELECT decision_key FROM `+c.allocT+` WHERE decision_key = ANY($1)
	UNION SELECT decision_key FROM `+c.postT+` WHERE decision_key = ANY($1)`, keys)
	if err != nil {
		return nil, fmt.Errorf("looking up applied decisions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("looking up applied decisions: %w", err)
		}
		out[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("looking up applied decisions: %w", err)
	}
	return out, nil
}

// Exception is an unlettered transaction for the exceptions table.
type Exception = connectors.Exception

// RecordExceptions upserts unlettered transactions into ExceptionsTable
// (keyed by transaction key), in one transaction; Apply deletes a
// transaction's row when it is lettered. Without exceptions_table it does
// nothing: the exceptions files are then the only report.
func (c *Client) RecordExceptions(ctx context.Context, exc []Exception) error {
	if c.excT == "" {
		return nil
	}
	tx, err := c.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("beginning exceptions transaction: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	up := `INSERT INTO ` + c.excT + ` (tx_key, tx_ref, account, booking_date, amount, currency, payer_name, payer_iban,
	refs, outcome, reason, explanation, candidates, updated_at)
	VALUES ($1, $2, $3, $4, $5::numeric, $6, $7, $8, $9, $10, $11, $12, $13, now())
	ON CONFLICT (tx_key) DO UPDATE SET outcome = EXCLUDED.outcome, reason = EXCLUDED.reason,
	explanation = EXCLUDED.explanation, candidates = EXCLUDED.candidates, updated_at = now()`
	for _, e := range exc {
		var refs []string
		for _, r := range e.Tx.Structured {
			refs = append(refs, r.Value)
		}
		refs = append(refs, e.Tx.Unstructured...)
		var cands []string
		for _, cd := range e.Decision.Candidates {
			cands = append(cands, fmt.Sprintf("%s:%.2f", cd.ItemID, cd.Score))
		}
		if _, err := tx.Exec(ctx, up, e.Tx.Key, e.Tx.Ref, e.Tx.Account, nullDate(e.Tx.BookingDate), e.Tx.Amount.String(),
			e.Tx.Currency, e.Tx.Counterparty.Name, e.Tx.Counterparty.IBAN, strings.Join(refs, " | "),
			string(e.Decision.Outcome), e.Decision.Reason, e.Decision.Explanation, strings.Join(cands, " ")); err != nil {
			return fmt.Errorf("recording exception %q: %w", e.Tx.Key, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing %d exceptions: %w", len(exc), err)
	}
	return nil
}
