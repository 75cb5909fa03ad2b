package odoo

import (
	"context"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// The ledger type odoo: a Odoo server over JSON-RPC, configured by the block
// ledger.odoo (Config). Without record_exceptions it is no ExceptionSink
// (noSink).
func init() {
	connectors.Register(connectors.Ledgers, "odoo",
		func(c *Config, _ connectors.LedgerOptions) (connectors.Ledger, error) {
			cl, err := New(*c)
			if err != nil || c.RecordExceptions {
				return cl, err
			}
			return noSink{cl}, nil
		})
}

// WritesCashDiscounts is false: the Odoo ledger does not write cash-discount
// postings yet, so the configuration refuses matching.cash_discount for it
// (connectors.CashDiscountWriter).
func (*Config) WritesCashDiscounts() bool { return false }

// noSink is the client of a configuration without record_exceptions, where
// RecordExceptions does nothing: every interface of the client but
// connectors.ExceptionSink: a sink is handed the exceptions whenever the
// reports are rewritten (with a Client that records nothing, for
// nothing).
type noSink struct{ c *Client }

var (
	_ connectors.Ledger           = noSink{}
	_ connectors.Unletterer       = noSink{}
	_ connectors.OpenItemsStamper = noSink{}
)

func (n noSink) OpenItems(ctx context.Context) ([]domain.OpenItem, error) { return n.c.OpenItems(ctx) }

func (n noSink) Apply(ctx context.Context, batch []connectors.KeyedDecision) error {
	return n.c.Apply(ctx, batch)
}

func (n noSink) Applied(ctx context.Context, keys []string) (map[string]bool, error) {
	return n.c.Applied(ctx, keys)
}

func (n noSink) Unletter(ctx context.Context, r connectors.Reversal) error {
	return n.c.Unletter(ctx, r)
}

func (n noSink) Close() error { return n.c.Close() }

func (n noSink) OpenItemsStamp(ctx context.Context) (string, error) { return n.c.OpenItemsStamp(ctx) }

func (n noSink) OpenItemsLasting() bool { return n.c.OpenItemsLasting() }
