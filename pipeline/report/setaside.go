package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/csvsafe"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// setAsideLabels are the categories in French (English shows the codes).
var setAsideLabels = map[string]string{
	decide.SetAsideDebit: "débit", decide.SetAsideNotBooked: "non comptabilisé", decide.SetAsideReversal: "contre-passation ou retour",
	decide.SetAsideByHand: "ignoré par un comptable", domain.ReasonReversedByBank: "rejeté par la banque",
	decide.ReasonAwaitingDetails: "remise en attente de détail", decide.ReasonCoveredByDetails: "remise couverte par son détail",
	decide.ReasonDetailsOfLettered: "détail d'une remise lettrée en bloc",
}

// fillSetAside writes the set-aside sheet: what was read but is not
// customer cash to letter, with why, who (for an accountant's ignore: in
// the explanation) and the totals per category and currency on top.
func fillSetAside(f *excelize.File, st xlsxStyles, v *view, rows []decide.StoredTx) error {
	sh := v.loc.SheetSetAside
	if _, err := f.NewSheet(sh); err != nil {
		return err
	}
	titles := []string{v.loc.Titles["tx_ref"], v.loc.Titles["booking_date"], v.loc.Titles["amount"], v.loc.Titles["currency"],
		v.loc.Titles["counterparty_name"], v.loc.Titles["reason"], v.loc.Titles[ColComment], v.loc.Titles["explanation"],
		v.loc.Titles["account_iban"]}
	label := func(c string) string {
		if v.loc.Code == "fr" {
			if l, ok := setAsideLabels[c]; ok {
				return l
			}
		}
		return c
	}
	// Totals per category and currency first.
	type key struct{ cat, ccy string }
	totals := map[key]domain.Amount{}
	counts := map[key]int{}
	var order []key
	for _, x := range rows {
		k := key{decide.SetAsideCategory(x), x.Tx.Currency}
		if _, ok := counts[k]; !ok {
			order = append(order, k)
		}
		counts[k]++
		totals[k] = totals[k].Add(x.Tx.Amount)
	}
	r := 1
	put := func(c int, val string, kind byte) error {
		cell, _ := excelize.CoordinatesToCellName(c+1, r)
		switch {
		case val == "":
			return nil
		case kind == 'n':
			if err := f.SetCellDefault(sh, cell, val); err != nil {
				return err
			}
			return f.SetCellStyle(sh, cell, cell, st.amount)
		case kind == 'd':
			d, err := time.Parse(time.DateOnly, val)
			if err != nil {
				return err
			}
			if err := f.SetCellValue(sh, cell, d); err != nil {
				return err
			}
			return f.SetCellStyle(sh, cell, cell, st.date)
		}
		return f.SetCellStr(sh, cell, csvsafe.ShowBidi(val))
	}
	for c, t := range []string{v.loc.Titles["reason"], v.loc.SummaryTitles[3], v.loc.Titles["amount"], v.loc.Titles["currency"]} {
		if err := put(c, t, 't'); err != nil {
			return err
		}
	}
	if err := f.SetCellStyle(sh, "A1", "D1", st.header); err != nil {
		return err
	}
	r++
	for _, k := range order {
		if err := put(0, label(k.cat), 't'); err != nil {
			return err
		}
		if err := put(1, fmt.Sprint(counts[k]), 't'); err != nil {
			return err
		}
		if err := put(2, totals[k].String(), 'n'); err != nil {
			return err
		}
		if err := put(3, k.ccy, 't'); err != nil {
			return err
		}
		r++
	}
	r++
	head := r
	for c, t := range titles {
		if err := put(c, t, 't'); err != nil {
			return err
		}
	}
	last, _ := excelize.ColumnNumberToName(len(titles))
	if err := f.SetCellStyle(sh, fmt.Sprintf("A%d", head), fmt.Sprintf("%s%d", last, head), st.header); err != nil {
		return err
	}
	r++
	for _, x := range rows {
		comment := ""
		if x.Decision.Rule == "manual:ignore" {
			comment = x.Decision.Reason // the accountant's reason code
		}
		vals := []struct {
			v    string
			kind byte
		}{{x.Tx.Ref, 't'}, {dateText(x.Tx.BookingDate), 'd'}, {x.Tx.Amount.String(), 'n'}, {x.Tx.Currency, 't'},
			{x.Tx.Counterparty.Name, 't'}, {label(decide.SetAsideCategory(x)), 't'}, {comment, 't'},
			{strings.TrimSpace(x.Decision.Explanation), 't'}, {x.Tx.Account, 't'}}
		for c, val := range vals {
			if err := put(c, val.v, val.kind); err != nil {
				return err
			}
		}
		r++
	}
	for col, w := range map[string]float64{"A": 26, "B": 12, "C": 14, "D": 9, "E": 30, "F": 26, "G": 20, "H": 70, "I": 30} {
		if err := f.SetColWidth(sh, col, col, w); err != nil {
			return err
		}
	}
	return nil
}
