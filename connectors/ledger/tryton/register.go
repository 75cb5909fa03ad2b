package tryton

import "github.com/lettrage/lettrage/connectors"

// The ledger type tryton: a Tryton server over JSON-RPC, configured by the block
// ledger.tryton (Config).
func init() {
	connectors.Register(connectors.Ledgers, "tryton",
		func(c *Config, _ connectors.LedgerOptions) (connectors.Ledger, error) { return New(*c) })
}

// WritesCashDiscounts is false: the Tryton ledger does not write cash-discount
// postings yet, so the configuration refuses matching.cash_discount for it
// (connectors.CashDiscountWriter).
func (*Config) WritesCashDiscounts() bool { return false }
