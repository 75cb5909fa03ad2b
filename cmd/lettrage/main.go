// Command lettrage letters incoming bank payments (ISO 20022 CAMT
// statements) to open customer invoices.
package main

import (
	"os"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
