package tryton

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

// The policies of Unletter's named steps, each a small pure function (the
// reversal itself is tested against Tryton).

func TestLetteringRefusal(t *testing.T) {
	inv := 7
	line := func(state string, invoice *int, desc string) fullLine {
		l := fullLine{Invoice: invoice, Description: desc}
		l.StmtRel.State = state
		return l
	}
	for _, tc := range []struct {
		name string
		orig []fullLine
		want string // a part of the reason; "" for none
	}{
		{"none", nil, "holds no lettering L1"},
		{"draft", []fullLine{line("posted", &inv, ""), line("validated", nil, "")}, "not posted"},
		{"suspense only", []fullLine{line("posted", nil, "suspense")}, "nothing to unletter"},
		{"an invoice", []fullLine{line("posted", nil, "bank"), line("posted", &inv, "")}, ""},
		{"a posting", []fullLine{line("posted", nil, postingPrefix(domain.WriteOffPosting)+" x")}, ""},
	} {
		got := letteringRefusal(tc.orig, "L1")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: letteringRefusal = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestInvoicePayments(t *testing.T) {
	i1, i2, r5, r3 := 1, 2, 5, 3
	orig := []fullLine{{ID: 10, Invoice: &i1}, {ID: 11, Invoice: &i1}, {ID: 12, Invoice: &i2}, {ID: 13}, {ID: 14, Invoice: &i2}}
	moves := map[int]moveLine{10: {ID: 100, Reconciliation: &r5}, 11: {ID: 110, Reconciliation: &r3}, 12: {ID: 120, Reconciliation: &r5},
		13: {ID: 130, Reconciliation: &r3}}
	payments, recs := invoicePayments(orig, moves)
	want := map[int][]int{1: {100, 110}, 2: {120}} // line 14 has no move line
	if !maps.EqualFunc(payments, want, slices.Equal) {
		t.Errorf("payments = %v, want %v", payments, want)
	}
	if !slices.Equal(recs, []int{3, 5}) {
		t.Errorf("reconciliations = %v, want [3 5]", recs)
	}
}

func TestReversalDayAndDescription(t *testing.T) {
	at := time.Date(2025, 3, 1, 23, 30, 0, 0, time.FixedZone("UTC-2", -2*3600))
	if got, want := reversalDay(at), time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("reversalDay = %v, want %v", got, want)
	}
	r := connectors.Reversal{Reverses: "K1", Reason: "  paid\ttwice \n by error "}
	if got := reversalDescription(r); got != "unletters K1: paid twice by error" {
		t.Errorf("reversalDescription = %q", got)
	}
	r.Reason = " "
	if got := reversalDescription(r); got != "unletters K1:" {
		t.Errorf("reversalDescription without reason = %q", got)
	}
}
