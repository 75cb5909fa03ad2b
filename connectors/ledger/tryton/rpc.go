package tryton

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lettrage/lettrage/connectors/internal/httpx"
	"github.com/lettrage/lettrage/domain"
)

// Decimal is a Tryton Numeric on the wire:
// {"__class__": "Decimal", "decimal": "100.00"}. A JSON null is zero.
type Decimal struct{ domain.Amount }

// MarshalJSON implements json.Marshaler.
func (d Decimal) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"__class__": "Decimal", "decimal": d.Amount.String()})
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Decimal{}
		return nil
	}
	var v struct {
		Class   string `json:"__class__"`
		Decimal string `json:"decimal"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("decoding Tryton decimal %.60s: %w", b, err)
	}
	if v.Class != "Decimal" {
		return fmt.Errorf("decoding Tryton decimal %.60s: %w", b, ErrProtocol)
	}
	a, err := domain.ParseAmount(v.Decimal)
	if err != nil {
		return fmt.Errorf("decoding Tryton decimal: %w", err)
	}
	d.Amount = a
	return nil
}

// Date is a Tryton Date on the wire:
// {"__class__": "date", "year": 2026, "month": 11, "day": 20}. Null is the
// zero time.
type Date struct{ time.Time }

// MarshalJSON implements json.Marshaler.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(map[string]any{"__class__": "date", "year": d.Year(), "month": int(d.Month()), "day": d.Day()})
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var v struct {
		Class string `json:"__class__"`
		Year  int    `json:"year"`
		Month int    `json:"month"`
		Day   int    `json:"day"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("decoding Tryton date %.60s: %w", b, err)
	}
	if v.Class != "date" || v.Month < 1 || v.Month > 12 || v.Day < 1 || v.Day > 31 {
		return fmt.Errorf("decoding Tryton date %.60s: %w", b, ErrProtocol)
	}
	d.Time = time.Date(v.Year, time.Month(v.Month), v.Day, 0, 0, 0, 0, time.UTC)
	return nil
}

// ErrProtocol is returned (wrapped) for an answer that is not Tryton's
// JSON-RPC.
var ErrProtocol = errors.New("unexpected Tryton JSON-RPC answer")

// ErrAuth is returned (wrapped) when Tryton refuses the credentials.
var ErrAuth = errors.New("Tryton refused the login") //nolint:staticcheck // ST1005: Tryton is a name

// Error is an error answer from Tryton: {"error": [Kind, args]}. Kind is the
// exception class: "UserError" and "UserWarning" are business errors
// (validation, closed period, invoice already paid…) whose Message is the
// text Tryton shows its users; anything else is a server fault.
type Error struct {
	Method      string
	Kind        string
	Message     string
	Description string
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Description != "" {
		msg += " (" + e.Description + ")"
	}
	return fmt.Sprintf("tryton %s: %s: %s", e.Method, e.Kind, msg)
}

// Business reports whether the error is one Tryton raises for its users
// (UserError, UserWarning), as opposed to a server fault.
func (e *Error) Business() bool { return e.Kind == "UserError" || e.Kind == "UserWarning" }

// parseError reads Tryton's error array. UserError args are
// [message, description, domain]; UserWarning args are
// [name, message, description]; other exceptions carry a string.
func parseError(method string, raw json.RawMessage) *Error {
	e := &Error{Method: method, Kind: "error"}
	var parts []json.RawMessage
	if json.Unmarshal(raw, &parts) != nil || len(parts) == 0 {
		e.Message = string(raw)
		return e
	}
	_ = json.Unmarshal(parts[0], &e.Kind)
	if len(parts) < 2 {
		return e
	}
	var args []json.RawMessage
	if json.Unmarshal(parts[1], &args) != nil {
		var s string
		if json.Unmarshal(parts[1], &s) == nil {
			e.Message = s
		} else {
			e.Message = string(parts[1])
		}
		return e
	}
	strs := make([]string, len(args))
	for i, a := range args {
		_ = json.Unmarshal(a, &strs[i])
	}
	switch {
	case e.Kind == "UserWarning" && len(strs) >= 2:
		e.Message = strs[1]
		if len(strs) > 2 {
			e.Description = strs[2]
		}
	case len(strs) >= 1:
		e.Message = strs[0]
		if len(strs) > 1 {
			e.Description = strs[1]
		}
	}
	if len(e.Message) > 2000 { // a traceback
		e.Message = e.Message[:2000] + "…"
	}
	return e
}

// rpc is a JSON-RPC session with one Tryton database; it logs in lazily and
// again when the server answers 401.
type rpc struct {
	hc       *httpx.Client
	url      string
	user     string
	password string
	language string
	company  int // 0: the user's current company

	mu      sync.Mutex
	auth    string
	context map[string]any
	id      atomic.Int64
}

type callOpts struct {
	idempotent bool
	recheck    func(ctx context.Context) (bool, error)
}

// login opens a session and reads the user's preferences (the context
// passed to every model call).
func (r *rpc) login(ctx context.Context) error {
	var res []json.RawMessage
	if err := r.send(ctx, "common.db.login", []any{r.user, map[string]any{"password": r.password}, r.language}, "", &res, callOpts{idempotent: true}); err != nil {
		var te *Error
		if errors.As(err, &te) || errors.Is(err, errUnauthorized) {
			return fmt.Errorf("logging in to Tryton as %q: %w: %w", r.user, ErrAuth, err)
		}
		return fmt.Errorf("logging in to Tryton as %q: %w", r.user, err)
	}
	var uid int
	var session string
	if len(res) != 2 || json.Unmarshal(res[0], &uid) != nil || json.Unmarshal(res[1], &session) != nil {
		// Tryton answers false (not an error) for a wrong password.
		return fmt.Errorf("logging in to Tryton as %q: %w", r.user, ErrAuth)
	}
	auth := "Session " + base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%s:%d:%s", r.user, uid, session)))
	var prefs map[string]any
	if err := r.send(ctx, "model.res.user.get_preferences", []any{true, map[string]any{}}, auth, &prefs, callOpts{idempotent: true}); err != nil {
		return fmt.Errorf("reading Tryton user preferences: %w", err)
	}
	if r.company != 0 {
		prefs["company"] = r.company
	}
	r.mu.Lock()
	r.auth, r.context = auth, prefs
	r.mu.Unlock()
	return nil
}

// errUnauthorized is internal: the session expired.
var errUnauthorized = errors.New("HTTP 401")

// call sends a model/wizard method with the session context appended,
// logging in first if needed and once more on 401.
func (r *rpc) call(ctx context.Context, out any, opts callOpts, method string, params ...any) error {
	for attempt := 0; ; attempt++ {
		r.mu.Lock()
		auth, uctx := r.auth, r.context
		r.mu.Unlock()
		if auth == "" {
			if err := r.login(ctx); err != nil {
				return err
			}
			continue
		}
		p := append(append([]any{}, params...), uctx)
		err := r.send(ctx, method, p, auth, out, opts)
		if errors.Is(err, errUnauthorized) && attempt == 0 {
			// A 401 means the call was not executed: safe to repeat after
			// renewing the session.
			r.mu.Lock()
			if r.auth == auth {
				r.auth = ""
			}
			r.mu.Unlock()
			continue
		}
		return err
	}
}

func (r *rpc) send(ctx context.Context, method string, params []any, auth string, out any, opts callOpts) error {
	body, err := json.Marshal(map[string]any{"id": r.id.Add(1), "method": method, "params": params})
	if err != nil {
		return fmt.Errorf("encoding %s: %w", method, err)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if auth != "" {
		h.Set("Authorization", auth)
	}
	resp, err := r.hc.Do(ctx, httpx.Request{Method: "POST", URL: r.url, Header: h, Body: body,
		Idempotent: opts.idempotent, Recheck: opts.recheck})
	if err != nil {
		return fmt.Errorf("calling tryton %s: %w", method, err)
	}
	if resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden {
		return fmt.Errorf("calling tryton %s: %w", method, errUnauthorized)
	}
	if resp.Status != http.StatusOK {
		return fmt.Errorf("calling tryton %s: HTTP %d: %.200s: %w", method, resp.Status, resp.Body, ErrProtocol)
	}
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(resp.Body))
	if err := dec.Decode(&env); err != nil {
		return fmt.Errorf("decoding tryton %s answer: %w: %w", method, ErrProtocol, err)
	}
	if len(env.Error) > 0 && string(env.Error) != "null" {
		return parseError(method, env.Error)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return fmt.Errorf("decoding tryton %s result %.120s: %w", method, strings.TrimSpace(string(env.Result)), err)
	}
	return nil
}
