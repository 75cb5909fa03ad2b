// Package httpx is the one HTTP client the HTTP ledger connectors share:
// per-attempt timeouts, retries with exponential backoff and full jitter on
// 429, 5xx and timeouts (honouring Retry-After), and a rule that a call which
// is not idempotent is never retried blindly — the caller supplies a Recheck
// that asks the server whether the first attempt took effect.
//
// Credentials never reach the log: only the method, the URL without user
// info and query, the status and the attempt number are logged.
package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Options tune a Client. Zero values take the defaults named on each field.
type Options struct {
	// Timeout bounds one attempt, response body included (default 30s).
	Timeout time.Duration
	// MaxAttempts is the number of attempts of a retryable call (default 4).
	MaxAttempts int
	// BaseDelay is the first backoff delay (default 250ms); it doubles per
	// attempt, with full jitter, up to MaxDelay (default 10s).
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits for
	// (default 2m); a longer one ends the call with the status error.
	MaxRetryAfter time.Duration
	// MaxBody bounds a response body (default 64 MiB).
	MaxBody int64
	// Logger receives one debug line per retry; nil logs nothing.
	Logger *slog.Logger
	// Transport replaces http.DefaultTransport (tests).
	Transport http.RoundTripper
	// Sleep replaces the wait between attempts (tests record delays with it).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client sends requests with the retry policy of its Options. It is safe for
// concurrent use.
type Client struct {
	hc   *http.Client
	opt  Options
	rand func() float64
}

// New returns a Client with opt's settings and defaults for the rest.
func New(opt Options) *Client {
	if opt.Timeout <= 0 {
		opt.Timeout = 30 * time.Second
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 4
	}
	if opt.BaseDelay <= 0 {
		opt.BaseDelay = 250 * time.Millisecond
	}
	if opt.MaxDelay <= 0 {
		opt.MaxDelay = 10 * time.Second
	}
	if opt.MaxRetryAfter <= 0 {
		opt.MaxRetryAfter = 2 * time.Minute
	}
	if opt.MaxBody <= 0 {
		opt.MaxBody = 64 << 20
	}
	if opt.Sleep == nil {
		opt.Sleep = sleepCtx
	}
	tr := opt.Transport
	if tr == nil {
		tr = http.DefaultTransport
	}
	return &Client{hc: &http.Client{Transport: tr}, opt: opt, rand: rand.Float64}
}

// Request is one HTTP call.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
	// Idempotent marks a call that may be repeated without effect (reads,
	// calls carrying an idempotency key the server honours).
	Idempotent bool
	// Recheck, for a call that is not idempotent, is asked before each
	// retry whether the failed attempt took effect after all. It returns
	// done=true when it did (Do then returns ErrAlreadyDone). Without a
	// Recheck a non-idempotent call is attempted once.
	Recheck func(ctx context.Context) (done bool, err error)
}

// Response is a complete response: the body is read and closed.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// ErrAlreadyDone is returned when a non-idempotent call failed in a way that
// left its effect unknown and its Recheck found that it took effect.
var ErrAlreadyDone = errors.New("the call took effect on an earlier attempt")

// ErrUncertain marks a failure of a non-idempotent call after which the
// server may or may not have acted (timeout, 5xx, cut connection); the caller
// must check before trying again.
var ErrUncertain = errors.New("outcome unknown")

// StatusError is an HTTP response with a status the caller did not accept.
type StatusError struct {
	Method, URL string // URL without user info and query
	Status      int
	Body        string // the start of the body, for the message
	RetryAfter  time.Duration
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.Status, e.Body)
}

// Retryable reports whether an error from Do is worth another attempt later
// (a retryable status or a network failure or timeout).
func Retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return retryableStatus(se.Status)
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	// io.EOF: the server closed the connection after reading the request
	// and before answering (a reverse proxy restarting, an Odoo worker
	// killed at limit_time_real): the call may or may not have acted.
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF)
}

func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500 && code != http.StatusNotImplemented
}

// Do sends req, retrying according to the policy. A response whose status
// is 2xx, 3xx or a 4xx other than 408/429 is returned as is, with a nil
// error: the caller interprets it. Retryable statuses that persist are
// returned as *StatusError.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	safeURL := redact(req.URL)
	var lastErr error
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, req)
		if err == nil && !retryableStatus(resp.Status) {
			return resp, nil
		}
		var wait time.Duration
		if err != nil {
			if !Retryable(err) || ctx.Err() != nil {
				return nil, fmt.Errorf("sending %s %s: %w", req.Method, safeURL, err)
			}
			lastErr = fmt.Errorf("sending %s %s: %w", req.Method, safeURL, err)
		} else {
			se := &StatusError{Method: req.Method, URL: safeURL, Status: resp.Status, Body: snippet(resp.Body)}
			se.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
			lastErr = se
			wait = se.RetryAfter
			if wait > c.opt.MaxRetryAfter {
				return nil, fmt.Errorf("sending %s %s: Retry-After %s exceeds %s: %w", req.Method, safeURL, wait, c.opt.MaxRetryAfter, se)
			}
		}
		if attempt >= c.opt.MaxAttempts {
			return nil, c.final(req, lastErr, attempt)
		}
		if !req.Idempotent {
			if req.Recheck == nil {
				return nil, c.final(req, lastErr, attempt)
			}
			done, cerr := req.Recheck(ctx)
			if cerr != nil {
				return nil, fmt.Errorf("re-checking %s %s after a failed attempt: %w (attempt failed with: %w)", req.Method, safeURL, cerr, lastErr)
			}
			if done {
				return nil, fmt.Errorf("re-checking %s %s: %w", req.Method, safeURL, ErrAlreadyDone)
			}
		}
		if wait == 0 {
			wait = c.backoff(attempt)
		}
		if c.opt.Logger != nil {
			c.opt.Logger.Debug("retrying HTTP call", "component", "httpx", "method", req.Method, "url", safeURL,
				"attempt", attempt, "wait", wait, "err", lastErr)
		}
		if err := c.opt.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("waiting to retry %s %s: %w (last attempt: %w)", req.Method, safeURL, err, lastErr)
		}
	}
}

// final wraps the last error; for a non-idempotent call it also carries
// ErrUncertain so that the caller knows it must check before acting again.
func (c *Client) final(req Request, err error, attempts int) error {
	if !req.Idempotent {
		return fmt.Errorf("giving up after %d attempt(s): %w: %w", attempts, ErrUncertain, err)
	}
	return fmt.Errorf("giving up after %d attempt(s): %w", attempts, err)
}

func (c *Client) once(ctx context.Context, req Request) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opt.Timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	for k, v := range req.Header {
		hr.Header[k] = v
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		// url.Error repeats the full URL; keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.opt.MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading response body: %w", err)
	}
	if int64(len(body)) > c.opt.MaxBody {
		return nil, fmt.Errorf("reading response body: larger than %d bytes", c.opt.MaxBody)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// backoff is full jitter over an exponentially growing ceiling:
// uniform in [0, min(MaxDelay, BaseDelay*2^(attempt-1))].
func (c *Client) backoff(attempt int) time.Duration {
	ceil := c.opt.BaseDelay << (attempt - 1)
	if ceil <= 0 || ceil > c.opt.MaxDelay {
		ceil = c.opt.MaxDelay
	}
	return time.Duration(c.rand() * float64(ceil))
}

// retryAfter parses a Retry-After value: delta seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		if s > int(math.MaxInt64/int64(time.Second)) {
			return time.Duration(math.MaxInt64) // longer than anyone waits
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// redact drops user info, query and fragment from a URL for logs and errors.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

func snippet(b []byte) string {
	const n = 200
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
