package file

import "github.com/lettrage/lettrage/connectors"

// The ledger type file: open items from a CSV or XLSX export, letters to a
// CSV journal, configured by the block ledger.file (Config).
func init() {
	connectors.Register(connectors.Ledgers, "file",
		func(c *Config, _ connectors.LedgerOptions) (connectors.Ledger, error) { return New(*c) })
}
