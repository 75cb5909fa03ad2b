package camt_test

import (
	"fmt"
	"os"

	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/domain"
)

// Parse streams a statement entry by entry; the returned File carries the
// statements with their balances and consistency checks.
func ExampleParse() {
	f, err := os.Open("../../testdata/camt/viafintech-camt-parser/053/valid_example_v8.xml")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	file, err := camt.Parse(f, "valid_example_v8.xml", camt.DefaultOptions(),
		func(st *camt.Statement, e *camt.Entry, txs []domain.Transaction) error {
			for _, tx := range txs {
				fmt.Println(e.Index, tx.Ref, tx.Amount, tx.Currency, tx.Counterparty.Name, tx.Structured, tx.Unstructured)
			}
			return nil
		})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(file.Type, file.Version, file.Statements[0].Account)
	for _, c := range file.Statements[0].Checks {
		fmt.Println(c.Name, c.OK)
	}
	// Output:
	// 1 9999181ZC0283079 474.4 CHF Jon Doe [] [INVOICE R77561]
	// 2 0123171DO5126811 88.85 CHF Finanz AG [{SCOR  RF38000000000000000000552}] []
	// 3 0123171DN6095310 20.97 EUR DHL Express (Schweiz) AG [{QRR  000000270148751802165444888}] []
	// camt.053 08 CH1111111111111111111
	// balance true
}
