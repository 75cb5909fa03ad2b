// Package all registers the built-in statement sources and ledgers: a
// program that reads Lettrage's configuration imports it for its side
// effects,
//
//	import _ "github.com/lettrage/lettrage/connectors/all"
//
// and a new connector adds its line here (CONTRIBUTING.md). The packages
// config and pipeline never import it: they know the connectors only
// through the registry (connectors.Sources, connectors.Ledgers), so that a
// program may register others of its own.
package all

import (
	// Statement sources.
	_ "github.com/lettrage/lettrage/connectors/source/local"
	_ "github.com/lettrage/lettrage/connectors/source/s3"
	_ "github.com/lettrage/lettrage/connectors/source/sftp"

	// Ledgers.
	_ "github.com/lettrage/lettrage/connectors/ledger/file"
	_ "github.com/lettrage/lettrage/connectors/ledger/odoo"
	_ "github.com/lettrage/lettrage/connectors/ledger/postgres"
	_ "github.com/lettrage/lettrage/connectors/ledger/tryton"
)
