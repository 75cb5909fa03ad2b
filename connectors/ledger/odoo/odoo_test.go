package odoo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/matcher"
)

func newClient(t *testing.T, url string, mut func(*Config)) *Client {
	t.Helper()
	cfg := Config{URL: url, Database: "prod", User: "lettrage", APIKey: "0123456789abcdef-api-key", PageSize: 2}
	if mut != nil {
		mut(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func kd(key string, allocs ...matcher.Allocation) connectors.KeyedDecision {
	return connectors.KeyedDecision{
		Key: key,
		Tx: matcher.Transaction{Key: "tx-" + key, Ref: "REF-" + key, Currency: "EUR", Credit: true, Status: "BOOK",
			BookingDate: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		Decision:  matcher.Decision{Outcome: matcher.Auto, Rule: "reference", Confidence: 1, Allocations: allocs},
		DecidedAt: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC),
	}
}

func al(item, amount, writeOff string) matcher.Allocation {
	a := matcher.Allocation{ItemID: item, Amount: matcher.MustAmount(amount)}
	if writeOff != "" {
		a.WriteOff = matcher.MustAmount(writeOff)
	}
	return a
}

func (f *fakeOdoo) residuals() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id := 1; id <= 6; id++ {
		m := f.moves[id]
		out = append(out, fmt.Sprintf("%d=%s/%s", id, m.payState, m.residual.Key()))
	}
	return strings.Join(out, " ")
}

func (f *fakeOdoo) memos() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, p := range f.pays {
		out = append(out, fmt.Sprintf("%s=%s@%d", p.memo, p.amount, p.move))
	}
	return strings.Join(out, " ")
}

func TestOpenItems(t *testing.T) {
	_, srv := newFakeOdoo(t, 17)
	c := newClient(t, srv.URL, nil)
	items, err := c.OpenItems(context.Background())
	if err != nil {
		t.Fatalf("OpenItems: %v", err)
	}
	var got []string
	for _, it := range items {
		got = append(got, fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s", it.ID, it.CustomerID, it.CustomerName, it.DocumentNumber,
			it.PaymentReference, it.IssueDate.Format(time.DateOnly), it.DueDate.Format(time.DateOnly), it.Currency, it.Amount, it.Residual,
			strings.Join(it.IBANs, ",")))
	}
	want := []string{
		"1|41|Dupont SARL|INV/2026/00001|RF18539007547034|2026-10-01|2026-10-31|EUR|1250.00|1250.00|FR7630006000011234567890189",
		"2|42|Müller GmbH|INV/2026/00002|INV/2026/00002|2026-10-01|2026-11-06|EUR|300.10|300.10|DE89370400440532013000",
		"3|41|Dupont SARL|INV/2026/00003||2026-10-01|0001-01-01|EUR|99.99|49.99|FR7630006000011234567890189",
		"4|41|Dupont SARL|RINV/2026/00001||2026-10-01|2026-10-15|EUR|-20.00|-20.00|FR7630006000011234567890189",
		"6|43|Rossi Srl|INV/2026/00005||2026-10-01|2026-11-20|EUR|500.00|500.00|",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("open items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestApplyExactlyOncePerVersion(t *testing.T) {
	for _, major := range []int{16, 17, 18} {
		t.Run(fmt.Sprintf("odoo %d", major), func(t *testing.T) {
			f, srv := newFakeOdoo(t, major)
			c := newClient(t, srv.URL, func(c *Config) { c.Journal = "BNK1"; c.WriteOffAccount = "658000" })
			ctx := context.Background()
			batch := []connectors.KeyedDecision{
				kd("k-full", al("1", "1250.00", "")),
				kd("k-partial", al("2", "100.05", "")),
				kd("k-two", al("3", "49.50", "0.49"), al("6", "200", "")),
			}
			if err := c.Apply(ctx, batch); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			want := "1=paid/0 2=partial/200.05 3=paid/0 4=not_paid/20 5=paid/0 6=partial/300"
			if got := f.residuals(); got != want {
				t.Fatalf("invoices = %q, want %q", got, want)
			}
			wantMemos := "lettrage:k-full:1/1=1250.00@1 lettrage:k-partial:1/1=100.05@2 lettrage:k-two:1/2=49.50@3 lettrage:k-two:2/2=200@6"
			if got := f.memos(); got != wantMemos {
				t.Errorf("payments = %q, want %q", got, wantMemos)
			}
			if err := c.Apply(ctx, batch); err != nil {
				t.Fatalf("Apply again: %v", err)
			}
			if got := f.memos(); got != wantMemos {
				t.Errorf("payments after replay = %q, want %q", got, wantMemos)
			}
			applied, err := c.Applied(ctx, []string{"k-full", "k-two", "k-none", "k"})
			if err != nil {
				t.Fatalf("Applied: %v", err)
			}
			if len(applied) != 2 || !applied["k-full"] || !applied["k-two"] {
				t.Errorf("Applied = %v, want k-full and k-two", applied)
			}
			f.mu.Lock()
			journal, wo := f.pays[0].journal, f.pays[2].writeOff
			f.mu.Unlock()
			if journal != 11 || wo != 501 {
				t.Errorf("journal %d / write-off account %d, want 11 / 501", journal, wo)
			}
		})
	}
}

func TestCrashBetweenPaymentsCompletesOnlyTheRest(t *testing.T) {
	f, srv := newFakeOdoo(t, 18)
	c := newClient(t, srv.URL, nil)
	ctx := context.Background()
	// A previous run paid the first of two allocations, then died.
	f.pays = append(f.pays, fakePayment{id: 1, memo: "lettrage:k-two:1/2", amount: matcher.MustAmount("49.99"), move: 3, state: "paid"})
	f.moves[3].residual, f.moves[3].payState = matcher.Amount{}, "paid"
	if got, _ := c.Applied(ctx, []string{"k-two"}); got["k-two"] {
		t.Fatalf("a half-paid decision reported applied")
	}
	if err := c.Apply(ctx, []connectors.KeyedDecision{kd("k-two", al("3", "49.99", ""), al("6", "500", ""))}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := f.memos(); got != "lettrage:k-two:1/2=49.99@3 lettrage:k-two:2/2=500@6" {
		t.Errorf("payments = %q", got)
	}
	if got, _ := c.Applied(ctx, []string{"k-two"}); !got["k-two"] {
		t.Errorf("completed decision not reported applied")
	}
}

func TestTimeoutAfterThePaymentIsNotRepeated(t *testing.T) {
	f, srv := newFakeOdoo(t, 17)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	first := true
	// Odoo registers the payment, but the answer never arrives in time.
	f.afterPayment = func(w http.ResponseWriter, r *http.Request) bool {
		if !first {
			return false
		}
		first = false
		return stallUntilClientGone(stop)(w, r)
	}
	c := newClient(t, srv.URL, func(c *Config) { c.Timeout = 300 * time.Millisecond })
	if err := c.Apply(context.Background(), []connectors.KeyedDecision{kd("k-slow", al("2", "300.10", ""))}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := f.memos(); got != "lettrage:k-slow:1/1=300.10@2" {
		t.Errorf("payments = %q, want exactly one", got)
	}
	if n := f.calls["account.payment.register.action_create_payments"]; n != 1 {
		t.Errorf("action_create_payments called %d times, want 1 (the recheck found the payment)", n)
	}
}

func TestTimeoutBeforeThePaymentIsRetried(t *testing.T) {
	f, srv := newFakeOdoo(t, 18)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	first := true
	// The request is lost before Odoo acts: the recheck finds nothing, and
	// the call is sent again.
	f.beforePayment = func(w http.ResponseWriter, r *http.Request) bool {
		if !first {
			return false
		}
		first = false
		return stallUntilClientGone(stop)(w, r)
	}
	c := newClient(t, srv.URL, func(c *Config) { c.Timeout = 300 * time.Millisecond })
	if err := c.Apply(context.Background(), []connectors.KeyedDecision{kd("k-lost", al("2", "300.10", ""))}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := f.memos(); got != "lettrage:k-lost:1/1=300.10@2" {
		t.Errorf("payments = %q, want exactly one", got)
	}
	if n := f.calls["account.payment.register.action_create_payments"]; n != 2 {
		t.Errorf("action_create_payments called %d times, want 2", n)
	}
}

// Refused decisions come back as RejectedErrors carrying the reason; the
// other decisions of the batch are paid all the same.
func TestApplyRefusals(t *testing.T) {
	tests := []struct {
		name        string
		batch       []connectors.KeyedDecision
		errIs       error
		errContains string
		payments    string
	}{
		{name: "paid meanwhile", batch: []connectors.KeyedDecision{kd("k1", al("5", "70.00", ""))}, errIs: ErrItemNotOpen, errContains: `decision "k1": invoice 5`},
		{name: "draft invoice", batch: []connectors.KeyedDecision{kd("k1", al("7", "5", ""))}, errIs: ErrItemNotOpen},
		{name: "above residual", batch: []connectors.KeyedDecision{kd("k1", al("3", "60", ""))}, errIs: ErrAboveResidual, errContains: "60 > 49.99"},
		{name: "above residual within the batch", batch: []connectors.KeyedDecision{kd("k0", al("3", "40", "")), kd("k1", al("3", "10", ""))},
			errIs: ErrAboveResidual, errContains: `decision "k1"`, payments: "lettrage:k0:1/1=40@3"},
		{name: "unknown invoice", batch: []connectors.KeyedDecision{kd("k1", al("99", "1", ""))}, errIs: ErrNotFound, errContains: "invoice 99"},
		{name: "not an id", batch: []connectors.KeyedDecision{kd("k1", al("INV-1", "1", ""))}, errContains: "not an Odoo invoice id"},
		{name: "one bad item refuses only its decision", batch: []connectors.KeyedDecision{kd("k0", al("1", "1250.00", "")), kd("k1", al("1", "0.01", ""), al("5", "1", ""))},
			errIs: ErrItemNotOpen, errContains: `decision "k1"`, payments: "lettrage:k0:1/1=1250.00@1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeOdoo(t, 17)
			c := newClient(t, srv.URL, nil)
			err := c.Apply(context.Background(), tc.batch)
			rej, only := connectors.Rejections(err)
			if !only || len(rej) != 1 || rej[0].Key != "k1" || rej[0].Partial {
				t.Fatalf("Apply = %v; want k1 rejected alone, nothing partial", err)
			}
			if tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Errorf("error %v is not %v", err, tc.errIs)
			}
			if !strings.Contains(err.Error(), tc.errContains) {
				t.Errorf("error %q does not contain %q", err, tc.errContains)
			}
			if got := f.memos(); got != tc.payments {
				t.Errorf("payments = %q, want %q", got, tc.payments)
			}
		})
	}
	f, srv := newFakeOdoo(t, 17)
	c := newClient(t, srv.URL, nil)
	err := c.Apply(context.Background(), []connectors.KeyedDecision{{Key: "k1", Decision: matcher.Decision{Outcome: matcher.Unmatched}}})
	if !errors.Is(err, ErrNotAuto) {
		t.Errorf("Apply(unmatched) = %v, want ErrNotAuto", err)
	}
	if rej, _ := connectors.Rejections(err); len(rej) != 0 || f.memos() != "" {
		t.Errorf("a programming error became a rejection: %v", err)
	}
}

func TestOdooUserErrorIsTyped(t *testing.T) {
	f, srv := newFakeOdoo(t, 17)
	c := newClient(t, srv.URL, nil)
	// Someone pays the invoice between our check and our payment.
	f.beforePayment = func(w http.ResponseWriter, r *http.Request) bool {
		f.mu.Lock()
		f.moves[2].residual, f.moves[2].payState = matcher.Amount{}, "paid"
		f.mu.Unlock()
		odooError(w, 1, "odoo.exceptions.UserError", "You can't register a payment because there is nothing left to pay on the selected journal items.")
		return true
	}
	err := c.Apply(context.Background(), []connectors.KeyedDecision{kd("k1", al("2", "300.10", ""))})
	var oe *Error
	var ie *ItemError
	if !errors.As(err, &oe) || !oe.Business() || oe.Name != "odoo.exceptions.UserError" || !strings.Contains(oe.Message, "nothing left to pay") {
		t.Fatalf("Apply = %v, want a typed Odoo UserError", err)
	}
	if !errors.As(err, &ie) || ie.Key != "k1" || ie.ItemID != "2" {
		t.Errorf("error %v is not located at k1/2", err)
	}
	rej, only := connectors.Rejections(err)
	if !only || len(rej) != 1 || rej[0].Reason != oe.Message || rej[0].Partial {
		t.Errorf("Rejections = %+v, %v; want k1 with Odoo's message", rej, only)
	}
}

// Odoo refuses the second payment of a two-invoice decision after the first
// went through: the rejection says it is partial; the next decision is paid.
func TestRejectionAfterAPaymentIsPartial(t *testing.T) {
	f, srv := newFakeOdoo(t, 17)
	c := newClient(t, srv.URL, nil)
	n := 0
	f.beforePayment = func(w http.ResponseWriter, r *http.Request) bool {
		n++
		if n == 2 {
			odooError(w, 1, "odoo.exceptions.ValidationError", "The journal entry is in a locked period.")
			return true
		}
		return false
	}
	err := c.Apply(context.Background(), []connectors.KeyedDecision{
		kd("k1", al("1", "1250.00", ""), al("2", "300.10", "")),
		kd("k2", al("6", "500.00", "")),
	})
	rej, only := connectors.Rejections(err)
	if !only || len(rej) != 1 || rej[0].Key != "k1" || !rej[0].Partial || !strings.Contains(rej[0].Reason, "locked period") {
		t.Fatalf("Apply = %v; want k1 rejected as partial with Odoo's message", err)
	}
	if got := f.memos(); got != "lettrage:k1:1/2=1250.00@1 lettrage:k2:1/1=500.00@6" {
		t.Errorf("payments = %q", got)
	}
}

func TestAuthErrors(t *testing.T) {
	_, srv := newFakeOdoo(t, 18)
	tests := []struct {
		name        string
		mut         func(*Config)
		errIs       error
		errContains string
	}{
		{name: "wrong key", mut: func(c *Config) { c.APIKey = "wrong-secret-key" }, errIs: ErrAuth},
		{name: "wrong user", mut: func(c *Config) { c.User = "mallory" }, errIs: ErrAuth},
		{name: "wrong database", mut: func(c *Config) { c.Database = "nope" }, errContains: "does not exist"},
		{name: "unknown journal", mut: func(c *Config) { c.Journal = "Cash" }, errIs: ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, srv.URL, tc.mut)
			_, err := c.OpenItems(context.Background())
			if err == nil {
				t.Fatal("OpenItems succeeded")
			}
			if tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Errorf("error %v is not %v", err, tc.errIs)
			}
			if !strings.Contains(err.Error(), tc.errContains) {
				t.Errorf("error %q does not contain %q", err, tc.errContains)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}
	// A key revoked after login: execute_kw answers AccessDenied.
	f2, srv2 := newFakeOdoo(t, 16)
	c := newClient(t, srv2.URL, nil)
	if _, err := c.OpenItems(context.Background()); err != nil {
		t.Fatal(err)
	}
	f2.key = "rotated"
	_, err := c.OpenItems(context.Background())
	var oe *Error
	if !errors.Is(err, ErrAuth) || !errors.As(err, &oe) || oe.Name != "odoo.exceptions.AccessDenied" || oe.Code != 200 {
		t.Errorf("OpenItems with a revoked key = %v, want ErrAuth wrapping AccessDenied", err)
	}
}

func TestAPIKeyFile(t *testing.T) {
	_, srv := newFakeOdoo(t, 17)
	p := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(p, []byte("0123456789abcdef-api-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv.URL, func(c *Config) { c.APIKey, c.APIKeyFile = "", p })
	if _, err := c.OpenItems(context.Background()); err != nil {
		t.Fatalf("OpenItems: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ok := Config{URL: "https://erp.example.com", Database: "prod", User: "lettrage", APIKey: "k"}
	tests := []struct {
		name        string
		mut         func(*Config)
		errContains string
	}{
		{name: "ok"},
		{name: "no url", mut: func(c *Config) { c.URL = "" }, errContains: "url: required"},
		{name: "bad url", mut: func(c *Config) { c.URL = "erp.example.com" }, errContains: "url: \"erp.example.com\" is not"},
		{name: "no database", mut: func(c *Config) { c.Database = "" }, errContains: "database: required"},
		{name: "no user", mut: func(c *Config) { c.User = "" }, errContains: "user: required"},
		{name: "no key", mut: func(c *Config) { c.APIKey = "" }, errContains: "api_key: required"},
		{name: "both keys", mut: func(c *Config) { c.APIKeyFile = "f" }, errContains: "api_key_file: set either"},
		{name: "negative page", mut: func(c *Config) { c.PageSize = -1 }, errContains: "page_size"},
		{name: "record_exceptions without journal", mut: func(c *Config) { c.RecordExceptions = true }, errContains: "journal: required with record_exceptions"},
		{name: "record_exceptions", mut: func(c *Config) { c.RecordExceptions = true; c.Journal = "BNK1" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			if tc.mut != nil {
				tc.mut(&c)
			}
			err := c.Validate()
			if tc.errContains == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errContains) {
				t.Fatalf("Validate = %v, want %q", err, tc.errContains)
			}
		})
	}
}

func TestNumberAmount(t *testing.T) {
	tests := []struct {
		in      string
		digits  int32
		want    string
		wantErr bool
	}{
		{"300.1", 2, "300.10", false},
		{"1250.0", 2, "1250.00", false},
		{"0.30000000000000004", 2, "0.30", false},
		{"1e-05", 2, "0.00", false},
		{"1.5E+3", 2, "1500.00", false},
		{"12", 0, "12", false},
		{"-20.0", 2, "-20.00", false},
		{"1.0005", 3, "1.000", false}, // half-even
		{"abc", 2, "", true},
	}
	for _, tc := range tests {
		got, err := Number(tc.in).Amount(tc.digits)
		if (err != nil) != tc.wantErr {
			t.Errorf("Number(%q).Amount: err = %v", tc.in, err)
			continue
		}
		if err == nil && got.StringFixed(tc.digits) != tc.want {
			t.Errorf("Number(%q).Amount(%d) = %s, want %s", tc.in, tc.digits, got.StringFixed(tc.digits), tc.want)
		}
	}
}

func TestMemo(t *testing.T) {
	for _, key := range []string{"k1", "job:tx:ab_c%", "a:b:1/2"} {
		m := memo(key, 2, 3)
		k, n, count, ok := parseMemo(m)
		if !ok || k != key || n != 2 || count != 3 {
			t.Errorf("parseMemo(memo(%q)) = %q %d %d %v", key, k, n, count, ok)
		}
	}
	for _, bad := range []string{"", "PAY/2026/0001", "lettrage:k", "lettrage:k:3/2", "lettrage:k:x/2"} {
		if _, _, _, ok := parseMemo(bad); ok {
			t.Errorf("parseMemo(%q) accepted", bad)
		}
	}
}

func FuzzNumber(f *testing.F) {
	for _, s := range []string{"300.1", "1e-05", "-0.0", "12", "false", `"x"`, "1.7976931348623157e+308"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64 {
			return
		}
		var n Number
		if err := json.Unmarshal([]byte(s), &n); err != nil {
			return
		}
		a, err := n.Amount(2)
		if err != nil {
			return
		}
		if a.Scale() > 2 {
			t.Fatalf("Number(%q).Amount(2) = %s with %d digits", s, a, a.Scale())
		}
	})
}

func FuzzParseMemo(f *testing.F) {
	f.Add("lettrage:k:1/2")
	f.Add("lettrage::0/0")
	f.Fuzz(func(t *testing.T, s string) {
		key, n, count, ok := parseMemo(s)
		if ok && memo(key, n, count) != s {
			t.Fatalf("parseMemo(%q) = %q %d %d does not round-trip", s, key, n, count)
		}
	})
}
