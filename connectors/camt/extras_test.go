package camt

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestExtras(t *testing.T) {
	doc := stmt053("02", ntry(`<AcctSvcrRef>E1</AcctSvcrRef><NtryDtls>`+
		txd(`<Amt Ccy="EUR">60</Amt><Refs><Prtry><Tp>BANK</Tp><Ref>P-1</Ref></Prtry></Refs>`)+
		txd(`<Amt Ccy="EUR">40</Amt><Refs><Prtry><Tp>BANK</Tp><Ref>P-2</Ref></Prtry></Refs>`)+
		`</NtryDtls><AddtlNtryInf>info</AddtlNtryInf>`)+ntry(`<AcctSvcrRef>E2</AcctSvcrRef>`))
	prefixed := strings.NewReplacer("</", "</c:", "<?", "<?", "<", "<c:").Replace(doc)
	prefixed = strings.Replace(prefixed, `<c:Document xmlns=`, `<c:Document xmlns:c=`, 1)
	for _, reference := range []bool{false, true} {
		for name, in := range map[string]string{"default namespace": doc, "prefixed": prefixed} {
			t.Run(fmt.Sprintf("%s/reference=%v", name, reference), func(t *testing.T) {
				opts := DefaultOptions()
				opts.reference = reference
				opts.Extra = []string{"NtryDtls/TxDtls/Refs/Prtry/Ref", "string(AcctSvcrRef)", "count(NtryDtls/TxDtls)"}
				if name == "prefixed" {
					opts.Extra = []string{"*[local-name()='NtryDtls']/*/*/*/*[local-name()='Ref']", "string(*[local-name()='AcctSvcrRef'])", "count(*[local-name()='NtryDtls']/*)"}
				}
				d, err := ReadAll(strings.NewReader(in), "x.xml", opts)
				if err != nil {
					t.Fatal(err)
				}
				es := d.Statements[0].Entries
				got1 := strings.Join(es[0].Projected[1].Additional, ",")
				if got1 != "info,P-1,P-2,E1,2" {
					t.Errorf("entry 1 additional %q", got1)
				}
				if got2 := strings.Join(es[1].Projected[0].Additional, ","); got2 != "E2,0" {
					t.Errorf("entry 2 additional %q", got2)
				}
			})
		}
	}
}

func TestCompileExtras(t *testing.T) {
	tests := []struct {
		in          []string
		errContains string
	}{
		{[]string{"//Ustrd", "NtryDtls/TxDtls/Refs/Prtry/Ref"}, ""},
		{nil, ""},
		{[]string{"//Ustrd", "///["}, `extra[1] "///["`},
	}
	for _, tc := range tests {
		err := CompileExtras(tc.in)
		if tc.errContains == "" {
			if err != nil {
				t.Errorf("CompileExtras(%q): %v", tc.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.errContains) {
			t.Errorf("CompileExtras(%q) = %v, want error containing %q", tc.in, err, tc.errContains)
		}
	}
	opts := DefaultOptions()
	opts.Extra = []string{"///["}
	if _, err := Parse(strings.NewReader(stmt053("02", "")), "x", opts, nil); err == nil || errors.Is(err, ErrNotCAMT) {
		t.Errorf("Parse with a bad extra: %v", err)
	}
}
