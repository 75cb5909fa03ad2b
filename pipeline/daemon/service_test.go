package daemon

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline"
	"github.com/lettrage/lettrage/pipeline/state"
)

// blockingLedger's OpenItems waits for the context, as a slow ERP call
// would when the daemon is stopped.
type blockingLedger struct{ connectors.Ledger }

func (blockingLedger) OpenItems(ctx context.Context) ([]domain.OpenItem, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestShutdownIsNotAnError: a pass cancelled by an orderly shutdown is
// logged at INFO, not as level=ERROR "run failed … context canceled".
func TestShutdownIsNotAnError(t *testing.T) {
	store, err := state.OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var buf bytes.Buffer
	log := pipeline.NewLogger(&buf, "info", "text")
	s := &Service{Log: log, Store: store}
	job := &pipeline.Job{Name: "slow", Ledger: blockingLedger{}, Store: store, Log: log}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	s.logRun(job, ctx)
	out := buf.String()
	if strings.Contains(out, "level=ERROR") || !strings.Contains(out, `level=INFO msg="run stopped by the shutdown`) {
		t.Errorf("log of a pass stopped by the shutdown:\n%s", out)
	}

	// The same error without a shutdown is a failure.
	buf.Reset()
	failing := &pipeline.Job{Name: "down", Ledger: failingLedger{}, Store: store, Log: log}
	s.logRun(failing, context.Background())
	if !strings.Contains(buf.String(), `level=ERROR msg="run failed" job=down exit_code=3`) {
		t.Errorf("log of a failed pass:\n%s", buf.String())
	}
}

type failingLedger struct{ connectors.Ledger }

func (failingLedger) OpenItems(context.Context) ([]domain.OpenItem, error) {
	return nil, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
}

// TestMetricsNegotiateOpenMetrics: /metrics answers in OpenMetrics when
// the scraper asks for it, in the Prometheus text format otherwise.
func TestMetricsNegotiateOpenMetrics(t *testing.T) {
	s := &Service{Metrics: pipeline.NewMetrics("test")}
	s.Metrics.InitJob("j", "local")
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	get := func(accept string) (string, string) {
		req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.Header.Get("Content-Type"), string(body)
	}
	ct, body := get("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
	if !strings.HasPrefix(ct, "application/openmetrics-text") || !strings.HasSuffix(body, "# EOF\n") {
		t.Errorf("asked for OpenMetrics: Content-Type %q, body ends %q", ct, body[max(0, len(body)-20):])
	}
	ct, body = get("")
	if !strings.HasPrefix(ct, "text/plain") || strings.Contains(body, "# EOF") {
		t.Errorf("no Accept header: Content-Type %q, want the text format", ct)
	}
}
