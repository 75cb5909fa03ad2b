// Command lettrage letters incoming bank payments (ISO 20022 CAMT
// statements) to open customer invoices.
package main

import (
	"os"

	// The built-in statement sources and ledgers, registered for the
	// configuration (source.type, ledger.type).
	_ "github.com/lettrage/lettrage/connectors/all"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
