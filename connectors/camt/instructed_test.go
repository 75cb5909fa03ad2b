package camt

import "testing"

// TestProjectInstructed checks that the instructed amount (AmtDtls/InstdAmt)
// of a detail, else of the entry, is projected when it is in another
// currency than the cash, with the bank's rate as written.
func TestProjectInstructed(t *testing.T) {
	usd := func(s string) string { return `<Amt Ccy="USD">` + s + `</Amt>` }
	eur := func(s string) string { return `<Amt Ccy="EUR">` + s + `</Amt>` }
	xchg := func(rate string) string {
		return `<CcyXchg><SrcCcy>USD</SrcCcy><TrgtCcy>EUR</TrgtCcy><XchgRate>` + rate + `</XchgRate></CcyXchg>`
	}
	tests := []struct {
		name    string
		entries string
		// want: "instructed currency rate" per transaction ("" when none)
		want []string
	}{
		{"detail InstdAmt with its rate",
			ntry(`<NtryDtls>` + txd(eur("100.00")+`<AmtDtls><InstdAmt>`+usd("108.70")+xchg("0.92")+`</InstdAmt></AmtDtls>`) + `</NtryDtls>`),
			[]string{"108.7 USD 0.92"}},
		{"rate given on TxAmt",
			ntry(`<NtryDtls>` + txd(`<AmtDtls><InstdAmt>`+usd("108.70")+`</InstdAmt><TxAmt>`+eur("100.00")+xchg("0.9200")+`</TxAmt></AmtDtls>`) + `</NtryDtls>`),
			[]string{"108.7 USD 0.9200"}},
		{"same currency is not projected",
			ntry(`<NtryDtls>` + txd(eur("100.00")+`<AmtDtls><InstdAmt>`+eur("100.00")+`</InstdAmt></AmtDtls>`) + `</NtryDtls>`),
			[]string{""}},
		{"entry InstdAmt without details",
			ntry(`<AmtDtls><InstdAmt>` + usd("108.70") + `</InstdAmt></AmtDtls>`),
			[]string{"108.7 USD "}},
		{"entry InstdAmt for its only detail",
			ntry(`<AmtDtls><InstdAmt>` + usd("108.70") + `</InstdAmt></AmtDtls><NtryDtls>` + txd(`<Refs><EndToEndId>e</EndToEndId></Refs>`) + `</NtryDtls>`),
			[]string{"108.7 USD "}},
		{"entry InstdAmt is not every detail's",
			ntry(`<AmtDtls><InstdAmt>` + usd("108.70") + `</InstdAmt></AmtDtls><NtryDtls>` + txd(eur("60")) + txd(eur("40")) + `</NtryDtls>`),
			[]string{"", ""}},
		{"none", ntry(""), []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			txs := projected(t, stmt053("08", tc.entries))
			if len(txs) != len(tc.want) {
				t.Fatalf("%d transactions, want %d", len(txs), len(tc.want))
			}
			for i, tx := range txs {
				got := ""
				if tx.Conversion != nil {
					got = tx.Instructed.Key() + " " + tx.InstructedCurrency + " " + tx.ExchangeRate
				}
				if got != tc.want[i] {
					t.Errorf("transaction %d: instructed %q, want %q", i, got, tc.want[i])
				}
				if fx := tx.FX(); fx.InstructedCurrency == "" && (!fx.Instructed.IsZero() || fx.ExchangeRate != "") {
					t.Errorf("transaction %d: instructed %s rate %q without a currency", i, fx.Instructed, fx.ExchangeRate)
				}
			}
		})
	}
}
