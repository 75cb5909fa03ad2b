package postgres

import "github.com/lettrage/lettrage/connectors"

// The ledger type postgres: an SQL ledger, configured by the block
// ledger.postgres (Config). The daemon's ledger connects on first use
// (lazy.go); a read-only one (`lettrage check --connect`) creates no
// bookkeeping table.
func init() {
	connectors.Register(connectors.Ledgers, "postgres",
		func(c *Config, o connectors.LedgerOptions) (connectors.Ledger, error) {
			if o.ReadOnly {
				return Open(*c)
			}
			return newLazyPostgres(*c)
		})
}
