package all_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	_ "github.com/lettrage/lettrage/connectors/all"
	"github.com/lettrage/lettrage/connectors/ledger/file"
	"github.com/lettrage/lettrage/connectors/ledger/odoo"
	"github.com/lettrage/lettrage/connectors/ledger/postgres"
	"github.com/lettrage/lettrage/connectors/ledger/tryton"
	"github.com/lettrage/lettrage/connectors/source/local"
	"github.com/lettrage/lettrage/connectors/source/s3"
	"github.com/lettrage/lettrage/connectors/source/sftp"
)

// TestBuiltIns checks that importing the package registers every built-in
// connector under its documented type name, with its own Config.
func TestBuiltIns(t *testing.T) {
	for _, c := range []struct {
		kinds []string
		want  map[string]string
	}{
		{connectors.Sources.Kinds(), map[string]string{
			"local": fmt.Sprintf("%T", &local.Config{}), "s3": fmt.Sprintf("%T", &s3.Config{}), "sftp": fmt.Sprintf("%T", &sftp.Config{}),
		}},
		{connectors.Ledgers.Kinds(), map[string]string{
			"file": fmt.Sprintf("%T", &file.Config{}), "odoo": fmt.Sprintf("%T", &odoo.Config{}),
			"postgres": fmt.Sprintf("%T", &postgres.Config{}), "tryton": fmt.Sprintf("%T", &tryton.Config{}),
		}},
	} {
		if len(c.kinds) != len(c.want) {
			t.Errorf("registered %q, want %d types", c.kinds, len(c.want))
		}
		for _, k := range c.kinds {
			cfg, ok := connectors.Sources.NewConfig(k)
			if !ok {
				cfg, ok = connectors.Ledgers.NewConfig(k)
			}
			if got := fmt.Sprintf("%T", cfg); !ok || got != c.want[k] {
				t.Errorf("type %s: configuration %s, want %s", k, got, c.want[k])
			}
		}
	}
}

// TestCashDiscountWriters checks which ledgers say they write cash-discount
// postings: the configuration refuses matching.cash_discount for the others.
func TestCashDiscountWriters(t *testing.T) {
	var writes []string
	for _, k := range connectors.Ledgers.Kinds() {
		cfg, _ := connectors.Ledgers.NewConfig(k)
		if w, ok := cfg.(connectors.CashDiscountWriter); !ok || w.WritesCashDiscounts() {
			writes = append(writes, k)
		}
	}
	if got := strings.Join(writes, ","); got != "file,postgres" {
		t.Errorf("ledgers writing cash discounts: %s, want file,postgres", got)
	}
}
