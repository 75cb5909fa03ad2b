package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/testenv"
)

// One cluster for the package; each test has its own database.
var (
	cluster    *testenv.Postgres
	clusterErr error
)

func TestMain(m *testing.M) {
	if os.Getenv(crashDSNEnv) != "" {
		// The child of TestPostingCrash uses its parent's cluster.
		os.Exit(m.Run())
	}
	code := func() int {
		{
			dir, err := os.MkdirTemp("", "lettrage-pg-")
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer os.RemoveAll(dir)
			cluster, clusterErr = testenv.NewPostgres(dir)
			defer cluster.Stop()
		}
		return m.Run()
	}()
	os.Exit(code)
}

func database(t *testing.T) string {
	t.Helper()
	testenv.Need(t, "PostgreSQL", clusterErr)
	return cluster.Database(t)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name        string
		cfg         Config
		errContains string
	}{
		{name: "minimal", cfg: Config{DSN: "postgres://x", OpenItemsQuery: "SELECT 1"}},
		{name: "dsn file", cfg: Config{DSNFile: "/run/secrets/dsn", OpenItemsQuery: "SELECT 1", AllocationsTable: "erp.lettrage", ExceptionsTable: "lettrage_exceptions"}},
		{name: "no dsn", cfg: Config{OpenItemsQuery: "SELECT 1"}, errContains: "dsn: required"},
		{name: "both dsn", cfg: Config{DSN: "x", DSNFile: "y", OpenItemsQuery: "SELECT 1"}, errContains: "dsn_file: set either"},
		{name: "no query", cfg: Config{DSN: "x"}, errContains: "open_items_query: required"},
		{name: "bad table", cfg: Config{DSN: "x", OpenItemsQuery: "q", AllocationsTable: "a; DROP TABLE b"}, errContains: "allocations_table:"},
		{name: "bad exceptions table", cfg: Config{DSN: "x", OpenItemsQuery: "q", ExceptionsTable: "a.b.c"}, errContains: "exceptions_table:"},
		{name: "negative conns", cfg: Config{DSN: "x", OpenItemsQuery: "q", MaxConns: -1}, errContains: "max_conns"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.errContains == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errContains) {
				t.Fatalf("Validate = %v, want error containing %q", err, tc.errContains)
			}
		})
	}
}

func TestSplitIBANs(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", ""},
		{"de89 3704 0044 0532 0130 00", "DE89370400440532013000"},
		{"FR7630006000011234567890189, DE89370400440532013000", "FR7630006000011234567890189|DE89370400440532013000"},
		{"{FR7630006000011234567890189,NULL}", "FR7630006000011234567890189"},
	}
	for _, tc := range tests {
		if got := strings.Join(splitIBANs(tc.in), "|"); got != tc.want {
			t.Errorf("splitIBANs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

const erpSchema = `
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, ibans text[]);
CREATE TABLE invoices (
	id int PRIMARY KEY, customer int REFERENCES customers, number text NOT NULL,
	issued date NOT NULL, due date, currency char(3) NOT NULL,
	total numeric(14,3) NOT NULL, residual numeric(14,3) NOT NULL CHECK (residual >= 0), ref text);
CREATE TABLE payments (decision text, invoice int, amount numeric(14,3), booked date);
INSERT INTO customers VALUES (1, 'Dupont SARL', '{FR7630006000011234567890189}'), (2, 'Müller GmbH', NULL);
INSERT INTO invoices VALUES
	(10, 1, 'INV-10', '2026-10-01', '2026-10-31', 'EUR', 1250.00, 1250.00, 'RF18539007547034'),
	(11, 1, 'INV-11', '2026-10-05', NULL, 'EUR', 99.995, 99.995, NULL),
	(12, 2, 'INV-12', '2026-10-07', '2026-11-06', 'EUR', 300.10, 300.10, NULL),
	(13, 2, 'INV-13', '2026-10-08', '2026-11-07', 'EUR', 0.10, 0, NULL);
`

const openItemsQuery = `SELECT i.id, i.customer AS customer_id, c.name AS customer_name, i.number AS document_number,
	i.issued AS issue_date, i.due AS due_date, i.currency, i.total AS amount, i.residual,
	i.ref AS payment_reference, c.ibans AS customer_iban
	FROM invoices i JOIN customers c ON c.id = i.customer WHERE i.residual > 0 ORDER BY i.id`

const applyStatement = `WITH p AS (INSERT INTO payments VALUES (@decision_key, @item_id::int, @amount::numeric, @booking_date::date))
	UPDATE invoices SET residual = residual - @amount::numeric - @write_off::numeric WHERE id = @item_id::int`

func newLedger(t *testing.T, mut func(*Config)) (*Client, string) {
	t.Helper()
	dsn := database(t)
	if _, err := cluster.Exec(dsn, erpSchema); err != nil {
		t.Fatal(err)
	}
	cfg := Config{DSN: dsn, OpenItemsQuery: openItemsQuery, ApplyStatement: applyStatement, ExceptionsTable: "lettrage_exceptions"}
	if mut != nil {
		mut(&cfg)
	}
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, dsn
}

func TestOpenItems(t *testing.T) {
	c, _ := newLedger(t, nil)
	items, err := c.OpenItems(context.Background())
	if err != nil {
		t.Fatalf("OpenItems: %v", err)
	}
	var got []string
	for _, it := range items {
		got = append(got, fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s", it.ID, it.CustomerID, it.CustomerName, it.DocumentNumber,
			it.IssueDate.Format(time.DateOnly), it.DueDate.Format(time.DateOnly), it.Currency, it.Amount, it.Residual,
			it.PaymentReference, strings.Join(it.IBANs, ",")))
	}
	want := []string{
		"10|1|Dupont SARL|INV-10|2026-10-01|2026-10-31|EUR|1250.000|1250.000|RF18539007547034|FR7630006000011234567890189",
		"11|1|Dupont SARL|INV-11|2026-10-05|0001-01-01|EUR|99.995|99.995||FR7630006000011234567890189",
		"12|2|Müller GmbH|INV-12|2026-10-07|2026-11-06|EUR|300.100|300.100||",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("open items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestOpenItemsErrors(t *testing.T) {
	tests := []struct {
		name        string
		query       string
		errContains string
		errIs       error
	}{
		{name: "missing residual", query: `SELECT id, currency, total AS amount FROM invoices`, errIs: ErrMissingColumn, errContains: "residual"},
		{name: "bad amount", query: `SELECT id, currency, 'twelve' AS amount, residual FROM invoices`, errContains: "open item row 1 (id \"10\"), column amount"},
		{name: "bad currency", query: `SELECT id, 'EURO' AS currency, total AS amount, residual FROM invoices`, errContains: "column currency"},
		{name: "syntax error", query: `SELEKT 1`, errContains: "preparing open_items_query"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newLedger(t, func(c *Config) { c.OpenItemsQuery = tc.query })
			_, err := c.OpenItems(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.errContains) {
				t.Fatalf("OpenItems error = %v, want %q", err, tc.errContains)
			}
			if tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Errorf("error %v is not %v", err, tc.errIs)
			}
			if strings.Contains(tc.name, "bad amount") {
				var re *RowError
				if !errors.As(err, &re) || re.Row != 1 || re.Column != "amount" {
					t.Errorf("error %v is not a RowError at row 1, amount", err)
				}
			}
		})
	}
}

func decision(key, txKey string, allocs ...domain.Allocation) connectors.KeyedDecision {
	return connectors.KeyedDecision{
		Key: key,
		Tx: domain.Transaction{Key: txKey, Ref: "REF-" + txKey, Account: "FR7630004000031234567890143", Currency: "EUR",
			Credit: true, Status: "BOOK", BookingDate: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		Decision:  domain.Decision{TxKey: txKey, Outcome: domain.Auto, Rule: "reference", Confidence: 0.99, Allocations: allocs},
		DecidedAt: time.Date(2026, 11, 21, 8, 30, 0, 0, time.UTC),
	}
}

func alloc(item, amount, writeOff string) domain.Allocation {
	a := domain.Allocation{ItemID: item, Amount: domain.MustAmount(amount)}
	if writeOff != "" {
		a.WriteOff = domain.MustAmount(writeOff)
	}
	return a
}

func residuals(t *testing.T, dsn string) string {
	t.Helper()
	out, err := cluster.Exec(dsn, `SELECT string_agg(id || '=' || residual, ' ' ORDER BY id) FROM invoices`)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func count(t *testing.T, dsn, sql string) string {
	t.Helper()
	out, err := cluster.Exec(dsn, sql)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestApplyExactlyOnce(t *testing.T) {
	ctx := context.Background()
	c, dsn := newLedger(t, nil)
	if err := c.RecordExceptions(ctx, []Exception{
		{Tx: decision("", "tx-1").Tx, Decision: domain.Decision{Outcome: domain.Suggested, Reason: "amount_mismatch",
			Candidates: []domain.Candidate{{ItemID: "10", Score: 0.6}}}},
		{Tx: decision("", "tx-9").Tx, Decision: domain.Decision{Outcome: domain.Unmatched, Reason: "no_candidate"}},
	}); err != nil {
		t.Fatalf("RecordExceptions: %v", err)
	}
	batch := []connectors.KeyedDecision{
		decision("k-full", "tx-1", alloc("10", "1250.00", "")),                            // full payment
		decision("k-partial", "tx-2", alloc("12", "100.05", "")),                          // partial
		decision("k-two", "tx-3", alloc("11", "99.990", "0.005"), alloc("12", "200", "")), // two items, a write-off
	}
	if err := c.Apply(ctx, batch); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := "10=0.000 11=0.000 12=0.050 13=0.000"
	if got := residuals(t, dsn); got != want {
		t.Fatalf("residuals after apply = %q, want %q", got, want)
	}
	if got := count(t, dsn, `SELECT tx_key FROM lettrage_exceptions`); got != "tx-9" {
		t.Errorf("exceptions left = %q, want tx-9 only (tx-1 was lettered)", got)
	}
	// Replaying the same batch changes nothing.
	if err := c.Apply(ctx, batch); err != nil {
		t.Fatalf("Apply again: %v", err)
	}
	if got := residuals(t, dsn); got != want {
		t.Errorf("residuals after replay = %q, want %q", got, want)
	}
	if got := count(t, dsn, `SELECT count(*) || '/' || sum(amount) FROM payments`); got != "4/1650.040" {
		t.Errorf("payments = %q, want 4/1650.040", got)
	}
	if got := count(t, dsn, `SELECT string_agg(decision_key || ':' || item_id || ':' || amount || ':' || write_off || ':' || booking_date, ' ' ORDER BY decision_key, item_id) FROM lettrage_allocations`); got !=
		"k-full:10:1250.00:0:2026-11-20 k-partial:12:100.05:0:2026-11-20 k-two:11:99.990:0.005:2026-11-20 k-two:12:200:0:2026-11-20" {
		t.Errorf("allocations table = %q", got)
	}
	got, err := c.Applied(ctx, []string{"k-full", "k-two", "k-unknown"})
	if err != nil {
		t.Fatalf("Applied: %v", err)
	}
	if !got["k-full"] || !got["k-two"] || got["k-unknown"] || len(got) != 2 {
		t.Errorf("Applied = %v, want k-full and k-two", got)
	}
	items, err := c.OpenItems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].ID != "12" || items[0].Residual.String() != "0.050" {
		t.Errorf("open items after apply = %+v, want only 12 with 0.050", items)
	}
}

// A decision the database refuses (a CHECK, a trigger's RAISE) is rolled
// back alone and rejected with the database's message; the others commit.
func TestApplyRejectsOnlyTheRefusedDecision(t *testing.T) {
	ctx := context.Background()
	c, dsn := newLedger(t, nil)
	batch := []connectors.KeyedDecision{
		decision("k-ok", "tx-1", alloc("10", "1250.00", "")),
		decision("k-too-much", "tx-2", alloc("12", "500", "")), // above the residual: the CHECK fails
		decision("k-ok2", "tx-3", alloc("11", "99.995", "")),
	}
	for round := 0; round < 2; round++ {
		err := c.Apply(ctx, batch)
		rej, only := connectors.Rejections(err)
		if !only || len(rej) != 1 || rej[0].Key != "k-too-much" || !strings.Contains(rej[0].Reason, "check constraint") {
			t.Fatalf("round %d: Apply = %v; want only k-too-much rejected for its check constraint", round, err)
		}
		if !errors.Is(err, connectors.ErrRejected) {
			t.Errorf("errors.Is(ErrRejected) = false for %v", err)
		}
		if got := residuals(t, dsn); got != "10=0.000 11=0.000 12=300.100 13=0.000" {
			t.Errorf("round %d: residuals = %q", round, got)
		}
	}
	got, err := c.Applied(ctx, []string{"k-ok", "k-too-much", "k-ok2"})
	if err != nil || len(got) != 2 || got["k-too-much"] {
		t.Errorf("Applied = %v, %v; want k-ok and k-ok2", got, err)
	}
	notAuto := decision("k-x", "tx-3")
	notAuto.Decision.Outcome = domain.Unmatched
	if err := c.Apply(ctx, []connectors.KeyedDecision{notAuto}); !errors.Is(err, ErrNotAuto) {
		t.Errorf("Apply(unmatched) = %v, want ErrNotAuto", err)
	}
}

// A failure that is not the data's fault (here a row lock held elsewhere)
// rolls the whole batch back: nothing is half-written, nothing rejected.
func TestApplyIsAtomicOnOtherErrors(t *testing.T) {
	ctx := context.Background()
	c, dsn := newLedger(t, func(cfg *Config) {
		cfg.ApplyStatement = `WITH l AS (SELECT id FROM invoices WHERE id = @item_id::int FOR UPDATE NOWAIT)
	UPDATE invoices SET residual = residual - @amount::numeric WHERE id = (SELECT id FROM l)`
	})
	other, err := New(ctx, Config{DSN: dsn, OpenItemsQuery: openItemsQuery})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lock, err := other.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = lock.Rollback(ctx) // only releases the row lock; the transaction wrote nothing
	}()
	if _, err := lock.Exec(ctx, `SELECT 1 FROM invoices WHERE id = 12 FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	batch := []connectors.KeyedDecision{
		decision("k-ok", "tx-1", alloc("10", "1250.00", "")),
		decision("k-locked", "tx-2", alloc("12", "100", "")),
	}
	err = c.Apply(ctx, batch)
	if rej, _ := connectors.Rejections(err); err == nil || len(rej) != 0 || !strings.Contains(err.Error(), `decision "k-locked"`) {
		t.Fatalf("Apply = %v; want a plain error naming k-locked", err)
	}
	if got := residuals(t, dsn); got != "10=1250.000 11=99.995 12=300.100 13=0.000" {
		t.Errorf("residuals = %q: a failed batch must leave nothing behind", got)
	}
	if got, err := c.Applied(ctx, []string{"k-ok", "k-locked"}); err != nil || len(got) != 0 {
		t.Errorf("Applied = %v, %v; want none", got, err)
	}
}

func TestBusinessError(t *testing.T) {
	tests := []struct {
		err    error
		reason string
		ok     bool
	}{
		{&pgconn.PgError{Code: "23514", Message: "new row violates check constraint"}, "new row violates check constraint", true},
		{fmt.Errorf("x: %w", &pgconn.PgError{Code: "P0001", Message: "invoice 12 is locked by closing", Detail: "period 2026-10"}), "invoice 12 is locked by closing (period 2026-10)", true},
		{&pgconn.PgError{Code: "22003", Message: "numeric field overflow"}, "numeric field overflow", true},
		{&pgconn.PgError{Code: "40001", Message: "could not serialize"}, "", false},
		{&pgconn.PgError{Code: "55P03", Message: "could not obtain lock"}, "", false},
		{errors.New("connection reset"), "", false},
	}
	for _, tc := range tests {
		reason, ok := businessError(tc.err)
		if reason != tc.reason || ok != tc.ok {
			t.Errorf("businessError(%v) = %q, %v; want %q, %v", tc.err, reason, ok, tc.reason, tc.ok)
		}
	}
}

func TestDefaultTableIsTheWriteBack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := database(t)
	if _, err := cluster.Exec(dsn, erpSchema); err != nil {
		t.Fatal(err)
	}
	// The DSN comes from a file (a mounted secret).
	if err := os.WriteFile(filepath.Join(dir, "dsn"), []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := New(ctx, Config{DSNFile: filepath.Join(dir, "dsn"), OpenItemsQuery: openItemsQuery, AllocationsTable: "public.my_allocs"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer c.Close()
	b := []connectors.KeyedDecision{decision("k1", "tx-1", alloc("10", "1250.00", ""))}
	for i := 0; i < 2; i++ {
		if err := c.Apply(ctx, b); err != nil {
			t.Fatalf("Apply %d: %v", i, err)
		}
	}
	if got := count(t, dsn, `SELECT count(*) FROM my_allocs`); got != "1" {
		t.Errorf("rows in my_allocs = %s, want 1", got)
	}
	if got := residuals(t, dsn); got != "10=1250.000 11=99.995 12=300.100 13=0.000" {
		t.Errorf("residuals = %q: without apply_statement the ERP tables are untouched", got)
	}
	if err := c.RecordExceptions(ctx, nil); err != nil {
		t.Errorf("RecordExceptions without table = %v, want nil (nothing to do)", err)
	}
}

func TestNewErrors(t *testing.T) {
	_, err := New(context.Background(), Config{DSN: "postgres://u:topsecret@127.0.0.1:1/x?connect_timeout=1", OpenItemsQuery: "SELECT 1"})
	if err == nil || !strings.Contains(err.Error(), "connecting to postgres") && !strings.Contains(err.Error(), "creating table") {
		t.Fatalf("New = %v, want a connection error", err)
	}
	if strings.Contains(err.Error(), "topsecret") {
		t.Errorf("error leaks the password: %v", err)
	}
	if _, err := New(context.Background(), Config{OpenItemsQuery: "SELECT 1"}); err == nil || !strings.Contains(err.Error(), "dsn: required") {
		t.Errorf("New without dsn = %v", err)
	}
}
