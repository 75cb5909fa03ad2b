package postgres

import "github.com/lettrage/lettrage/connectors"

// The ledger type postgres: an SQL ledger, configured by the block
// ledger.postgres (Config). The daemon's ledger connects on first use
// (lazy.go); a read-only one (`lettrage check --connect`) creates no
// bookkeeping table. Only with exceptions_table is it an ExceptionSink
// (lazy.go's lazySink).
func init() {
	connectors.Register(connectors.Ledgers, "postgres",
		func(c *Config, o connectors.LedgerOptions) (connectors.Ledger, error) {
			if o.ReadOnly {
				return Open(*c)
			}
			l, err := newLazyPostgres(*c)
			if err != nil || c.ExceptionsTable == "" {
				return l, err
			}
			return lazySink{l}, nil
		})
}
