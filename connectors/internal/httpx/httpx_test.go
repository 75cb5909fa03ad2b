package httpx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// script answers each attempt with the next step: a status (with optional
// Retry-After), for status 0 a stall past the client's timeout, for status
// -1 the connection closed without an answer (a proxy or a worker killed
// after reading the request).
type step struct {
	status     int
	retryAfter string
}

func scripted(t *testing.T, steps []step, hits *atomic.Int32) *httptest.Server {
	t.Helper()
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client hanging up
		n := int(hits.Add(1)) - 1
		if n >= len(steps) {
			n = len(steps) - 1
		}
		s := steps[n]
		if s.status == -1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		if s.status == 0 {
			select { // the client times out
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		if s.retryAfter != "" {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		w.WriteHeader(s.status)
		_, _ = io.WriteString(w, "body")
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // runs first
	return srv
}

func TestDo(t *testing.T) {
	tests := []struct {
		name        string
		steps       []step
		idempotent  bool
		recheck     func(context.Context) (bool, error)
		wantHits    int32
		wantStatus  int
		wantSleeps  []time.Duration // exact waits; nil: not checked
		errContains string
		errIs       error
	}{
		{name: "ok first time", steps: []step{{200, ""}}, idempotent: true, wantHits: 1, wantStatus: 200},
		{name: "4xx is returned, not retried", steps: []step{{404, ""}}, idempotent: true, wantHits: 1, wantStatus: 404},
		{name: "401 is returned for the caller to log in again", steps: []step{{401, ""}}, wantHits: 1, wantStatus: 401},
		{name: "503 then ok", steps: []step{{503, ""}, {200, ""}}, idempotent: true, wantHits: 2, wantStatus: 200},
		{name: "429 honours Retry-After seconds", steps: []step{{429, "3"}, {429, "1"}, {200, ""}}, idempotent: true,
			wantHits: 3, wantStatus: 200, wantSleeps: []time.Duration{3 * time.Second, time.Second}},
		{name: "Retry-After too long gives up", steps: []step{{503, "3600"}}, idempotent: true, wantHits: 1,
			errContains: "exceeds"},
		{name: "persistent 500 gives up after max attempts", steps: []step{{500, ""}}, idempotent: true, wantHits: 4,
			errContains: "giving up after 4 attempt(s)"},
		{name: "timeout then ok", steps: []step{{0, ""}, {200, ""}}, idempotent: true, wantHits: 2, wantStatus: 200},
		{name: "connection closed without an answer, then ok", steps: []step{{-1, ""}, {200, ""}}, idempotent: true, wantHits: 2, wantStatus: 200},
		{name: "non-idempotent: connection closed, recheck finds it done", steps: []step{{-1, ""}, {200, ""}}, wantHits: 1,
			recheck: func(context.Context) (bool, error) { return true, nil }, errIs: ErrAlreadyDone},
		{name: "non-idempotent without recheck is tried once", steps: []step{{502, ""}, {200, ""}}, wantHits: 1,
			errIs: ErrUncertain, errContains: "HTTP 502"},
		{name: "non-idempotent timeout without recheck is tried once", steps: []step{{0, ""}, {200, ""}}, wantHits: 1,
			errIs: ErrUncertain},
		{name: "non-idempotent: recheck finds it done", steps: []step{{0, ""}, {200, ""}}, wantHits: 1,
			recheck: func(context.Context) (bool, error) { return true, nil }, errIs: ErrAlreadyDone},
		{name: "non-idempotent: recheck finds nothing, retried", steps: []step{{503, ""}, {201, ""}}, wantHits: 2, wantStatus: 201,
			recheck: func(context.Context) (bool, error) { return false, nil }},
		{name: "non-idempotent: recheck fails", steps: []step{{503, ""}, {201, ""}}, wantHits: 1,
			recheck: func(context.Context) (bool, error) { return false, errors.New("search down") }, errContains: "re-checking POST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := scripted(t, tc.steps, &hits)
			var sleeps []time.Duration
			c := New(Options{Timeout: 100 * time.Millisecond, Sleep: func(_ context.Context, d time.Duration) error {
				sleeps = append(sleeps, d)
				return nil
			}})
			resp, err := c.Do(context.Background(), Request{Method: "POST", URL: srv.URL + "/x", Body: []byte("{}"),
				Idempotent: tc.idempotent, Recheck: tc.recheck})
			if got := hits.Load(); got != tc.wantHits {
				t.Errorf("server hits = %d, want %d", got, tc.wantHits)
			}
			if tc.errContains != "" || tc.errIs != nil {
				if err == nil {
					t.Fatalf("no error, want %q / %v", tc.errContains, tc.errIs)
				}
				if !strings.Contains(err.Error(), tc.errContains) {
					t.Errorf("error %q does not contain %q", err, tc.errContains)
				}
				if tc.errIs != nil && !errors.Is(err, tc.errIs) {
					t.Errorf("error %q is not %v", err, tc.errIs)
				}
				return
			}
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if resp.Status != tc.wantStatus || string(resp.Body) != "body" {
				t.Errorf("response = %d %q, want %d \"body\"", resp.Status, resp.Body, tc.wantStatus)
			}
			if tc.wantSleeps != nil {
				if len(sleeps) != len(tc.wantSleeps) {
					t.Fatalf("sleeps = %v, want %v", sleeps, tc.wantSleeps)
				}
				for i := range sleeps {
					if sleeps[i] != tc.wantSleeps[i] {
						t.Errorf("sleep %d = %v, want %v", i, sleeps[i], tc.wantSleeps[i])
					}
				}
			}
		})
	}
}

func TestBackoffGrowsWithJitterAndCap(t *testing.T) {
	c := New(Options{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second})
	c.rand = func() float64 { return 1 } // the ceiling
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := c.backoff(i + 1); got != w*time.Millisecond {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	c.rand = func() float64 { return 0.5 }
	if got := c.backoff(3); got != 200*time.Millisecond {
		t.Errorf("jittered backoff(3) = %v, want 200ms", got)
	}
	if got := c.backoff(80); got != 500*time.Millisecond { // shift overflow stays capped
		t.Errorf("backoff(80) = %v, want 500ms", got)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"7", 7 * time.Second}, {"-3", 0}, {"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tc := range tests {
		if got := retryAfter(tc.in, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestCredentialsNeverLogged(t *testing.T) {
	var hits atomic.Int32
	srv := scripted(t, []step{{503, ""}, {200, ""}}, &hits)
	var logs bytes.Buffer
	c := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Sleep: func(context.Context, time.Duration) error { return nil }})
	u := strings.Replace(srv.URL, "http://", "http://alice:s3cret-pw@", 1) + "/rpc?api_key=s3cret-key"
	_, err := c.Do(context.Background(), Request{Method: "POST", URL: u, Idempotent: true,
		Header: http.Header{"Authorization": {"Bearer s3cret-token"}}, Body: []byte(`{"password":"s3cret-body"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "retrying HTTP call") {
		t.Fatalf("expected a retry log line, got %q", logs.String())
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("a credential reached the log: %s", logs.String())
	}
	// Errors carry the redacted URL too.
	srv2 := scripted(t, []step{{500, ""}}, &hits)
	_, err = New(Options{MaxAttempts: 1}).Do(context.Background(), Request{Method: "GET", Idempotent: true,
		URL: strings.Replace(srv2.URL, "http://", "http://bob:s3cret@", 1) + "/?token=s3cret"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error = %v, want one without credentials", err)
	}
}

func TestCancelledContextStopsRetries(t *testing.T) {
	var hits atomic.Int32
	srv := scripted(t, []step{{503, ""}}, &hits)
	ctx, cancel := context.WithCancel(context.Background())
	c := New(Options{Sleep: func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }})
	_, err := c.Do(ctx, Request{Method: "GET", URL: srv.URL, Idempotent: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if hits.Load() != 1 {
		t.Errorf("hits = %d, want 1", hits.Load())
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", "-1", "Wed, 21 Oct 2015 07:28:00 GMT", "99999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if d := retryAfter(s, now); d < 0 {
			t.Fatalf("retryAfter(%q) = %v < 0", s, d)
		}
	})
}
