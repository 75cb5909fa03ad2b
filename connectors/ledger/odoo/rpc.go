package odoo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lettrage/lettrage/connectors/internal/httpx"
	"github.com/lettrage/lettrage/domain"
)

// Error is an Odoo JSON-RPC error answer:
//
//	{"error": {"code": 200, "message": "Odoo Server Error",
//	           "data": {"name": "odoo.exceptions.UserError", "message": "…", "debug": "Traceback…"}}}
//
// Name is the Python exception class; Message is what Odoo shows its users.
type Error struct {
	Method  string // model.method or service.method
	Code    int
	Name    string
	Message string
	// Cause is the database error the exception came from, read from its
	// traceback ("psycopg2.errors.UniqueViolation"): Odoo turns every
	// IntegrityError into a ValidationError ("The operation cannot be
	// completed: …"), among them the clash of two transactions numbering
	// entries of one journal at once.
	Cause string
}

func (e *Error) Error() string {
	return fmt.Sprintf("odoo %s: %s: %s", e.Method, e.Name, e.Message)
}

// Business reports whether the error is Odoo's verdict on the operation
// itself — UserError (a lock date, an invoice with nothing left to pay),
// ValidationError, MissingError (a record deleted meanwhile) — so that the
// decision is refused and becomes an exception.
//
// The others are outages of the ledger, retried and alerted on, never a
// verdict on a payment: AccessError (the Odoo user lacks a group, or a
// record rule hides a record: fixing the user's rights must let the same
// decisions through), AccessDenied (login or API key), RedirectWarning
// (Odoo points to a settings screen: a chart of accounts, a journal to
// configure), a ValidationError caused by a database error (Cause: two
// transactions gave one entry number at once, "Another entry with the
// same name already exists"), and every server fault (psycopg2 errors,
// Python errors).
func (e *Error) Business() bool {
	if e.Cause != "" {
		return false // a database error (a concurrent numbering clash…): retried, never a verdict
	}
	switch e.Name {
	case "odoo.exceptions.UserError", "odoo.exceptions.ValidationError", "odoo.exceptions.MissingError",
		"odoo.exceptions.Warning": // Odoo ≤ 13's name of UserError
		return true
	}
	return false
}

// ErrAuth is returned (wrapped) when Odoo refuses the login or API key.
var ErrAuth = errors.New("Odoo refused the login or API key") //nolint:staticcheck // ST1005: Odoo is a name

// ErrUnknownDatabase is returned (wrapped) when the Odoo server has no
// database of the configured name.
var ErrUnknownDatabase = errors.New("the Odoo server has no such database")

// ErrProtocol is returned (wrapped) for an answer that is not Odoo's
// JSON-RPC.
var ErrProtocol = errors.New("unexpected Odoo JSON-RPC answer")

type rpc struct {
	hc  *httpx.Client
	url string // …/jsonrpc
	id  atomic.Int64
}

type callOpts struct {
	idempotent bool
	recheck    func(ctx context.Context) (bool, error)
}

// clashes are the database errors of two transactions at once that Odoo
// does not retry itself (it retries serialization failures 5 times, and
// turns a UniqueViolation — two entries of one journal numbered at once —
// into a ValidationError).
var clashes = map[string]bool{
	"psycopg2.errors.UniqueViolation":      true,
	"psycopg2.errors.SerializationFailure": true,
	"psycopg2.errors.DeadlockDetected":     true,
	"psycopg2.errors.LockNotAvailable":     true,
}

// clashAttempts is how many times a call that fails on a clash is sent.
const clashAttempts = 3

// call sends the call, again (up to clashAttempts times, after a short
// pause) when Odoo answers that it failed on a clash with another
// transaction: Odoo rolled the call back, so sending it again is safe, and
// it would most likely go through a moment later.
func (r *rpc) call(ctx context.Context, out any, opts callOpts, label, service, method string, args ...any) error {
	for attempt := 1; ; attempt++ {
		err := r.callOnce(ctx, out, opts, label, service, method, args...)
		var oe *Error
		if err == nil || attempt >= clashAttempts || !errors.As(err, &oe) || !clashes[oe.Cause] {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt) * time.Duration(100+rand.IntN(200)) * time.Millisecond):
		}
	}
}

// callOnce sends {"jsonrpc":"2.0","method":"call","params":{"service","method","args"}}.
// args is always a JSON array: Odoo calls the method with *args, and null
// is refused (TypeError … argument after * must be an iterable).
func (r *rpc) callOnce(ctx context.Context, out any, opts callOpts, label, service, method string, args ...any) error {
	if args == nil {
		args = []any{}
	}
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call", "id": r.id.Add(1),
		"params": map[string]any{"service": service, "method": method, "args": args}})
	if err != nil {
		return fmt.Errorf("encoding odoo %s: %w", label, err)
	}
	resp, err := r.hc.Do(ctx, httpx.Request{Method: "POST", URL: r.url, Body: body,
		Header: http.Header{"Content-Type": {"application/json"}}, Idempotent: opts.idempotent, Recheck: opts.recheck})
	if err != nil {
		return fmt.Errorf("calling odoo %s: %w", label, err)
	}
	if resp.Status != http.StatusOK {
		return fmt.Errorf("calling odoo %s: HTTP %d: %.200s: %w", label, resp.Status, resp.Body, ErrProtocol)
	}
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Data    struct {
				Name    string `json:"name"`
				Message string `json:"message"`
				Debug   string `json:"debug"`
			} `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(resp.Body, &env); err != nil {
		return fmt.Errorf("decoding odoo %s answer: %w: %w", label, ErrProtocol, err)
	}
	if env.Error != nil {
		e := &Error{Method: label, Code: env.Error.Code, Name: env.Error.Data.Name, Message: env.Error.Data.Message,
			Cause: dbCause(env.Error.Data.Debug)}
		if e.Message == "" {
			e.Message = env.Error.Message
		}
		if e.Name == "odoo.exceptions.AccessDenied" {
			return fmt.Errorf("calling odoo %s: %w: %w", label, ErrAuth, e)
		}
		return e
	}
	// A method that returns None answers without a "result" key: that is
	// JSON null, and out keeps its zero value.
	if out == nil || len(env.Result) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(env.Result))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("decoding odoo %s result %.120s: %w", label, env.Result, err)
	}
	return nil
}

// dbCause finds, in an Odoo traceback, the database exception the error
// came from: a line "psycopg2.errors.<Class>: …" (or "psycopg2.<Class>:")
// before the error's own. Empty when there is none.
func dbCause(debug string) string {
	for _, line := range strings.Split(debug, "\n") {
		if !strings.HasPrefix(line, "psycopg2.") {
			continue
		}
		if name, _, ok := strings.Cut(line, ":"); ok && !strings.ContainsAny(name, " \t") {
			return name
		}
	}
	return ""
}

// Number is an Odoo float field read as its JSON text, never as a Go float.
// Odoo sends monetary values as JSON numbers written by Python's repr, the
// shortest text that round-trips (300.1, not 300.09999999999997).
type Number string

// UnmarshalJSON keeps the literal; false (Odoo's empty value) is "".
func (n *Number) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "false" || s == "null" {
		*n = ""
		return nil
	}
	if len(s) == 0 || !(s[0] == '-' || s[0] >= '0' && s[0] <= '9') {
		return fmt.Errorf("decoding odoo number %.40s: %w", s, ErrProtocol)
	}
	*n = Number(s)
	return nil
}

// Amount converts the literal to an exact amount rounded half-even to
// digits fraction digits (the currency's), which removes binary-float
// noise. Exponents (1e-05) are expanded exactly.
func (n Number) Amount(digits int32) (domain.Amount, error) {
	if n == "" {
		return domain.Amount{}, nil
	}
	s := string(n)
	if strings.ContainsAny(s, "eE") {
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			return domain.Amount{}, fmt.Errorf("parsing odoo number %q: %w", s, ErrProtocol)
		}
		s = r.FloatString(int(digits) + 2)
	}
	a, err := domain.ParseAmount(s)
	if err != nil {
		return domain.Amount{}, fmt.Errorf("parsing odoo number: %w", err)
	}
	return a.Round(digits), nil
}

// Many2one is Odoo's [id, "display name"] pair, or false.
type Many2one struct {
	ID   int
	Name string
}

// UnmarshalJSON implements json.Unmarshaler.
func (m *Many2one) UnmarshalJSON(b []byte) error {
	if string(b) == "false" || string(b) == "null" {
		*m = Many2one{}
		return nil
	}
	var pair []json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil || len(pair) != 2 {
		return fmt.Errorf("decoding odoo many2one %.60s: %w", b, ErrProtocol)
	}
	if err := json.Unmarshal(pair[0], &m.ID); err != nil {
		return fmt.Errorf("decoding odoo many2one id: %w", err)
	}
	_ = json.Unmarshal(pair[1], &m.Name)
	return nil
}

// Text is a char field: Odoo sends false for empty.
type Text string

// UnmarshalJSON implements json.Unmarshaler.
func (t *Text) UnmarshalJSON(b []byte) error {
	if string(b) == "false" || string(b) == "null" {
		*t = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("decoding odoo text: %w", err)
	}
	*t = Text(s)
	return nil
}
