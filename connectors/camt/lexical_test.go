package camt

import (
	"strings"
	"testing"
	"time"
)

func TestParseDateTime(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 with the zone as written (UTC when none); "" for an error
	}{
		{"2024-01-01", "2024-01-01T00:00:00Z"},
		{"2024-01-01+02:00", "2024-01-01T00:00:00+02:00"},
		{"2024-01-01T10:00:00", "2024-01-01T10:00:00Z"},
		{"2024-01-01T10:00:00.123Z", "2024-01-01T10:00:00.123Z"},
		{"2024-01-01T10:00", "2024-01-01T10:00:00Z"},
		{" 2024-01-01T00:00:00 ", "2024-01-01T00:00:00Z"},
		// 24:00:00 is the end of the day: 00:00:00 of the next one.
		{"2024-01-01T24:00:00", "2024-01-02T00:00:00Z"},
		{"2024-01-01T24:00:00.0", "2024-01-02T00:00:00Z"},
		{"2024-01-01T24:00:00.000000000000", "2024-01-02T00:00:00Z"},
		{"2024-01-01T24:00:00Z", "2024-01-02T00:00:00Z"},
		{"2024-01-01T24:00:00.00Z", "2024-01-02T00:00:00Z"},
		{"2024-01-01T24:00:00+02:00", "2024-01-02T00:00:00+02:00"},
		{"2024-01-01T24:00:00.0-05:30", "2024-01-02T00:00:00-05:30"},
		{"2024-12-31T24:00:00", "2025-01-01T00:00:00Z"},
		{"2024-02-28T24:00:00", "2024-02-29T00:00:00Z"},
		{"2023-02-28T24:00:00", "2023-03-01T00:00:00Z"},
		{"2024-02-29T24:00:00", "2024-03-01T00:00:00Z"},
		{" 2024-01-31T24:00:00\n", "2024-02-01T00:00:00Z"},
		// Not the end of a day, or not a date-time.
		{"2024-01-01T24:00:01", ""},
		{"2024-01-01T24:01:00", ""},
		{"2024-01-01T24:00:00.5", ""},
		{"2024-01-01T24:00:00.0001", ""},
		{"2024-01-01T24:00:00.", ""},
		{"2024-01-01T24:00", ""}, // xs:dateTime has seconds
		{"2024-01-01T24", ""},
		{"2024-01-01T25:00:00", ""},
		{"2024-02-30T24:00:00", ""},
		{"2024-01-01T24:00:00Zx", ""},
		{"2024-01-01T24:00:00+2:00", ""},
		{"2024-01-01 24:00:00", ""},
		{"T24:00:00", ""},
		{"2024-01-01T24:00:00T24:00:00", ""},
		{"2024-13-01", ""},
		{"01/02/2024", ""},
	}
	for _, tt := range tests {
		got, err := parseDateTime(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("parseDateTime(%q) = %v, want an error", tt.in, got)
			} else if !strings.Contains(err.Error(), "not an ISO date or date-time") {
				t.Errorf("parseDateTime(%q) error %q", tt.in, err)
			}
			continue
		}
		if err != nil || got == nil {
			t.Errorf("parseDateTime(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
			continue
		}
		want, err := time.Parse(time.RFC3339Nano, tt.want)
		if err != nil {
			t.Fatal(err)
		}
		if s := got.Format(time.RFC3339Nano); !got.Equal(want) || s != tt.want {
			t.Errorf("parseDateTime(%q) = %s, want %s", tt.in, s, tt.want)
		}
	}
	if got, err := parseDateTime(""); got != nil || err != nil {
		t.Errorf(`parseDateTime("") = %v, %v; want nil, nil`, got, err)
	}
}

// TestLexicalFormsBothPaths: the lexical forms XML Schema allows that
// Go's parsers do not take as they are (24:00:00, amounts with many
// leading zeros) are read, with the same values, by the statement-level
// reader (encoding/xml) and by both entry paths (fast and reference).
func TestLexicalFormsBothPaths(t *testing.T) {
	zeros := strings.Repeat("0", 45)
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
<BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId><CreDtTm>2024-01-31T24:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S1</Id><CreDtTm>2024-01-31T24:00:00.000+01:00</CreDtTm>
<FrToDt><FrDtTm>2024-01-01T00:00:00</FrDtTm><ToDtTm>2024-01-31T24:00:00Z</ToDtTm></FrToDt>
<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">` + zeros + `250.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><DtTm>2024-01-31T24:00:00</DtTm></Dt></Bal>
<TxsSummry><TtlNtries><NbOfNtries>1</NbOfNtries><Sum>` + zeros + `150.00</Sum></TtlNtries></TxsSummry>
<Ntry><Amt Ccy="EUR">` + zeros + `150.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><DtTm>2024-01-31T24:00:00</DtTm></BookgDt><ValDt><DtTm>2024-01-31T24:00:00.0-02:00</DtTm></ValDt>
<NtryDtls><TxDtls><Amt Ccy="EUR">+` + zeros + `150.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<RmtInf><Strd><RfrdDocAmt><TaxAmt><Amt Ccy="EUR">` + zeros + `25.0</Amt></TaxAmt></RfrdDocAmt></Strd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>`
	feb1 := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, ref := range []bool{false, true} {
		opts := DefaultOptions()
		opts.reference = ref
		d, err := ReadAll(strings.NewReader(doc), "lexical.xml", opts)
		if err != nil {
			t.Fatalf("reference=%v: %v", ref, err)
		}
		st := d.Statements[0]
		e := st.Entries[0]
		tx := e.Transactions[0]
		times := []struct {
			name string
			got  *time.Time
			want time.Time
		}{
			{"GrpHdr/CreDtTm", d.Created, feb1},
			{"Stmt/CreDtTm", st.Created, feb1.Add(-time.Hour)},
			{"FrToDt/ToDtTm", st.To, feb1},
			{"Bal/Dt/DtTm", st.Balances[0].Date, feb1},
			{"BookgDt/DtTm", e.BookingDate, feb1},
			{"ValDt/DtTm", e.ValueDate, feb1.Add(2 * time.Hour)},
		}
		for _, x := range times {
			if x.got == nil || !x.got.Equal(x.want) {
				t.Errorf("reference=%v: %s = %v, want %v", ref, x.name, x.got, x.want)
			}
		}
		amounts := []struct{ name, got, want string }{
			{"Bal/Amt", st.Balances[0].Amount.String(), "250.00"},
			{"TxsSummry/Sum", st.Summary.Sum.String(), "150.00"},
			{"Ntry/Amt", e.Amount.String(), "150.00"},
			{"TxDtls/Amt", tx.Amount.Amount.String(), "150.00"},
			{"RfrdDocAmt/TaxAmt", tx.Remittance.Structured[0].Amounts.Tax.Amount.String(), "25.0"},
		}
		for _, x := range amounts {
			if x.got != x.want {
				t.Errorf("reference=%v: %s = %s, want %s", ref, x.name, x.got, x.want)
			}
		}
	}
	fast, refJSON, ferr, rerr := readBoth(t, []byte(doc), DefaultOptions())
	if ferr != nil || rerr != nil || string(fast) != string(refJSON) {
		t.Errorf("the entry paths differ (fast err %v, reference err %v): %s", ferr, rerr, firstDiff(fast, refJSON))
	}
}
