package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// lazyPostgres is the PostgreSQL ledger connected on first use, so that
// a database down when the daemon (or `once`) starts fails that job's runs
// (exit code 3, retried by the next run) instead of the whole process;
// the other jobs run. It is what the registry builds for ledger type
// postgres (register.go). It has every optional interface the PostgreSQL
// client has (Unletterer, OpenItemsStamper; ExceptionSink only with
// exceptions_table: lazySink), and no other.
type lazyPostgres struct {
	cfg Config
	mu  sync.Mutex
	c   *Client
}

var (
	_ connectors.Ledger           = (*lazyPostgres)(nil)
	_ connectors.Unletterer       = (*lazyPostgres)(nil)
	_ connectors.ExceptionSink    = lazySink{}
	_ connectors.Unletterer       = (*Client)(nil)
	_ connectors.ExceptionSink    = (*Client)(nil)
	_ connectors.OpenItemsStamper = (*lazyPostgres)(nil)
	_ connectors.OpenItemsStamper = (*Client)(nil)
)

// newLazyPostgres validates the configuration now (a configuration error
// is one at start) and connects later.
func newLazyPostgres(cfg Config) (*lazyPostgres, error) {
	c, err := Open(cfg) // validates, reads dsn_file; does not connect
	if err != nil {
		return nil, err
	}
	c.Close()
	return &lazyPostgres{cfg: cfg}, nil
}

func (l *lazyPostgres) client(ctx context.Context) (*Client, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c != nil {
		return l.c, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := New(ctx, l.cfg)
	if err != nil {
		return nil, err
	}
	l.c = c
	return c, nil
}

func (l *lazyPostgres) OpenItems(ctx context.Context) ([]domain.OpenItem, error) {
	c, err := l.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.OpenItems(ctx)
}

func (l *lazyPostgres) Apply(ctx context.Context, batch []connectors.KeyedDecision) error {
	c, err := l.client(ctx)
	if err != nil {
		return err
	}
	return c.Apply(ctx, batch)
}

func (l *lazyPostgres) Applied(ctx context.Context, keys []string) (map[string]bool, error) {
	c, err := l.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.Applied(ctx, keys)
}

func (l *lazyPostgres) Unletter(ctx context.Context, r connectors.Reversal) error {
	c, err := l.client(ctx)
	if err != nil {
		return err
	}
	return c.Unletter(ctx, r)
}

// lazySink is the lazy ledger of a configuration with exceptions_table:
// the only one that is a connectors.ExceptionSink. Without that table
// RecordExceptions does nothing, and a sink is handed the exceptions
// whenever the reports are rewritten: for nothing.
type lazySink struct{ *lazyPostgres }

func (l lazySink) RecordExceptions(ctx context.Context, exc []connectors.Exception) error {
	c, err := l.client(ctx)
	if err != nil {
		return err
	}
	return c.RecordExceptions(ctx, exc)
}

func (l *lazyPostgres) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c != nil {
		return l.c.Close()
	}
	return nil
}
