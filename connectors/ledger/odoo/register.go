package odoo

import "github.com/lettrage/lettrage/connectors"

// The ledger type odoo: a Odoo server over JSON-RPC, configured by the block
// ledger.odoo (Config).
func init() {
	connectors.Register(connectors.Ledgers, "odoo",
		func(c *Config, _ connectors.LedgerOptions) (connectors.Ledger, error) { return New(*c) })
}

// WritesCashDiscounts is false: the Odoo ledger does not write cash-discount
// postings yet, so the configuration refuses matching.cash_discount for it
// (connectors.CashDiscountWriter).
func (*Config) WritesCashDiscounts() bool { return false }
