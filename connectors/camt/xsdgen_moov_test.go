package camt

// The oracle of the schema-conformance test: moov-io/iso20022's typed
// camt_v08 decoding of a whole document (as in moov_test.go, but for every
// statement-level field too), compared with what ReadAll returns on every
// field the Lettrage model carries. moov-io keeps amounts as float64:
// they are compared with the decimal rounded to a float64, within 1e-9
// relative.

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moov-io/iso20022/pkg/camt_v08"
	"github.com/moov-io/iso20022/pkg/common"

	"github.com/lettrage/lettrage/domain"
)

// moovDoc is a camt.052/053/054 .08 Document as moov-io decodes it.
type moovDoc struct {
	Stmt *camt_v08.BankToCustomerStatementV08               `xml:"BkToCstmrStmt"`
	Rpt  *camt_v08.BankToCustomerAccountReportV08           `xml:"BkToCstmrAcctRpt"`
	Ntf  *camt_v08.BankToCustomerDebitCreditNotificationV08 `xml:"BkToCstmrDbtCdtNtfctn"`
}

// moovStatement is what Stmt, Rpt and Ntfctn share.
type moovStatement struct {
	ID           string
	Elctrnc, Lgl float64
	CreDtTm      *common.ISODateTime
	FrToDt       *camt_v08.DateTimePeriod1
	Acct         *camt_v08.CashAccount39
	Bal          []camt_v08.CashBalance8
	TxsSummry    *camt_v08.TotalTransactions6
	Ntry         []camt_v08.ReportEntry10
}

// moovRead is a document as moov-io reads it.
type moovRead struct {
	msgID   string
	created time.Time
	sts     []moovStatement
}

func decodeMoov(data []byte) (*moovRead, error) {
	msgID, created, sts, err := decodeMoovParts(data)
	if err != nil {
		return nil, err
	}
	return &moovRead{msgID, created, sts}, nil
}

func decodeMoovParts(data []byte) (msgID string, created time.Time, sts []moovStatement, err error) {
	var d moovDoc
	dec := xml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		return "", time.Time{}, nil, err
	}
	switch {
	case d.Stmt != nil:
		msgID, created = string(d.Stmt.GrpHdr.MsgId), time.Time(d.Stmt.GrpHdr.CreDtTm)
		for _, s := range d.Stmt.Stmt {
			sts = append(sts, moovStatement{string(s.Id), s.ElctrncSeqNb, s.LglSeqNb, s.CreDtTm, s.FrToDt, s.Acct, s.Bal, s.TxsSummry, s.Ntry})
		}
	case d.Rpt != nil:
		msgID, created = string(d.Rpt.GrpHdr.MsgId), time.Time(d.Rpt.GrpHdr.CreDtTm)
		for _, s := range d.Rpt.Rpt {
			sts = append(sts, moovStatement{string(s.Id), s.ElctrncSeqNb, s.LglSeqNb, s.CreDtTm, s.FrToDt, s.Acct, s.Bal, s.TxsSummry, s.Ntry})
		}
	case d.Ntf != nil:
		msgID, created = string(d.Ntf.GrpHdr.MsgId), time.Time(d.Ntf.GrpHdr.CreDtTm)
		for _, s := range d.Ntf.Ntfctn {
			acct := s.Acct
			sts = append(sts, moovStatement{string(s.Id), s.ElctrncSeqNb, s.LglSeqNb, s.CreDtTm, s.FrToDt, &acct, nil, s.TxsSummry, s.Ntry})
		}
	default:
		return "", time.Time{}, nil, fmt.Errorf("no BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn")
	}
	return msgID, created, sts, nil
}

// xdiff is one disagreement: field is the element path without indexes
// (what failures are grouped by), at the path with them.
type xdiff struct {
	field, at, ours, theirs string
}

type differ struct {
	out []xdiff
	loc string // Stmt[i]/Ntry[j]/TxDtls[k]
}

func (d *differ) add(field, ours, theirs string) {
	d.out = append(d.out, xdiff{field: field, at: d.loc, ours: ours, theirs: theirs})
}

func (d *differ) str(field, ours, theirs string) {
	if ours != theirs {
		d.add(field, strconv.Quote(ours), strconv.Quote(theirs))
	}
}

// tr is a moov text value as Lettrage keeps it: trimmed.
func tr[T ~string](p *T) string {
	if p == nil {
		return ""
	}
	return strings.TrimSpace(string(*p))
}

func trv[T ~string](v T) string { return strings.TrimSpace(string(v)) }

// sameFloat: moov-io parses with strconv.ParseFloat and the model's
// decimal converts to the nearest float64 too, so the same text gives the
// same float; 2 ulps of slack at most.
func sameFloat(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 2*(math.Nextafter(math.Abs(a), math.Inf(1))-math.Abs(a))
}

// amount compares a decimal with moov's float64.
func (d *differ) amount(field string, ours domain.Amount, theirs float64) {
	if !sameFloat(ours.Float(), theirs) {
		d.add(field, ours.String(), strconv.FormatFloat(theirs, 'g', -1, 64))
	}
}

func (d *differ) optAmount(field string, ours *domain.Amount, theirs float64) {
	if ours == nil {
		if theirs != 0 { // moov-io cannot tell absent from 0
			d.add(field, "absent", strconv.FormatFloat(theirs, 'g', -1, 64))
		}
		return
	}
	d.amount(field, *ours, theirs)
}

func (d *differ) money(field string, ours *Money, theirs *camt_v08.ActiveOrHistoricCurrencyAndAmount) {
	switch {
	case ours == nil && theirs == nil:
	case ours == nil:
		d.add(field, "absent", fmt.Sprintf("%v %s", theirs.Value, theirs.Ccy))
	case theirs == nil:
		d.add(field, ours.Amount.String()+" "+ours.Currency, "absent")
	default:
		d.amount(field, ours.Amount, theirs.Value)
		d.str(field+"@Ccy", ours.Currency, trv(theirs.Ccy))
	}
}

func (d *differ) count(field string, ours *int, theirs *common.Max15NumericText) {
	o, t := "absent", "absent"
	if ours != nil {
		o = strconv.Itoa(*ours)
	}
	if theirs != nil {
		n, err := strconv.Atoi(trv(*theirs))
		if err != nil {
			t = string(*theirs)
		} else {
			t = strconv.Itoa(n)
		}
	}
	d.str(field, o, t)
}

func (d *differ) flag(field string, ours *bool, theirs *common.CreditDebitCode) {
	o, t := "absent", "absent"
	if ours != nil {
		o = map[bool]string{true: "CRDT", false: "DBIT"}[*ours]
	}
	if theirs != nil {
		t = trv(*theirs)
	}
	d.str(field, o, t)
}

// when compares a time; moov's zero value means absent (or 0001-01-01).
func (d *differ) when(field string, ours *time.Time, theirs time.Time) {
	switch {
	case ours == nil && theirs.IsZero():
	case ours == nil:
		d.add(field, "absent", theirs.String())
	case theirs.IsZero() && ours.IsZero():
	case !ours.Equal(theirs):
		d.add(field, ours.String(), theirs.String())
	}
}

func choiceDate(c *camt_v08.DateAndDateTime2Choice) time.Time {
	if c == nil {
		return time.Time{}
	}
	if t := time.Time(c.Dt); !t.IsZero() {
		return t
	}
	return time.Time(c.DtTm)
}

func isoTime(p *common.ISODateTime) time.Time {
	if p == nil {
		return time.Time{}
	}
	return time.Time(*p)
}

// compareMoov compares a document as ReadAll read it with moov-io's
// decoding of the same bytes.
func compareMoov(doc *Document, data []byte) ([]xdiff, error) {
	m, err := decodeMoov(data)
	if err != nil {
		return nil, err
	}
	return compareRead(doc, m), nil
}

func compareRead(doc *Document, m *moovRead) []xdiff {
	d := &differ{}
	d.str("GrpHdr/MsgId", doc.MsgID, strings.TrimSpace(m.msgID))
	d.when("GrpHdr/CreDtTm", doc.Created, m.created)
	if len(doc.Statements) != len(m.sts) {
		d.add("Stmt", fmt.Sprintf("%d statements", len(doc.Statements)), fmt.Sprintf("%d", len(m.sts)))
		return d.out
	}
	for i := range m.sts {
		d.loc = fmt.Sprintf("Stmt[%d]", i+1)
		compareStatement(d, doc.Statements[i], &m.sts[i])
	}
	return d.out
}

func compareStatement(d *differ, st *Statement, m *moovStatement) {
	d.str("Stmt/Id", st.ID, strings.TrimSpace(m.ID))
	for _, f := range []struct {
		name string
		ours string
		v    float64
	}{{"Stmt/ElctrncSeqNb", st.ElctrncSeqNb, m.Elctrnc}, {"Stmt/LglSeqNb", st.LglSeqNb, m.Lgl}} {
		var o float64
		if f.ours != "" {
			var err error
			if o, err = strconv.ParseFloat(f.ours, 64); err != nil {
				d.add(f.name, f.ours, "not a number")
				continue
			}
		}
		if !sameFloat(o, f.v) {
			d.add(f.name, f.ours, strconv.FormatFloat(f.v, 'g', -1, 64))
		}
	}
	d.when("Stmt/CreDtTm", st.Created, isoTime(m.CreDtTm))
	var from, to time.Time
	if m.FrToDt != nil {
		from, to = time.Time(m.FrToDt.FrDtTm), time.Time(m.FrToDt.ToDtTm)
	}
	d.when("Stmt/FrToDt/FrDtTm", st.From, from)
	d.when("Stmt/FrToDt/ToDtTm", st.To, to)

	// Account: the normalised IBAN, else Othr/Id.
	var acct, ccy, owner, bic string
	isIBAN := false
	if a := m.Acct; a != nil {
		if iban := NormalizeIBAN(string(a.Id.IBAN)); iban != "" {
			acct, isIBAN = iban, true
		} else {
			acct = trv(a.Id.Othr.Id)
		}
		ccy = tr(a.Ccy)
		if a.Ownr != nil {
			owner = tr(a.Ownr.Nm)
		}
		if a.Svcr != nil {
			bic = tr(a.Svcr.FinInstnId.BICFI)
		}
	}
	if ccy == "" && len(m.Bal) > 0 {
		ccy = trv(m.Bal[0].Amt.Ccy)
	}
	d.str("Stmt/Acct/Id", st.Account, acct)
	d.str("Stmt/Acct/Id(is IBAN)", strconv.FormatBool(st.AccountIBAN), strconv.FormatBool(isIBAN))
	d.str("Stmt/Acct/Ccy (else first Bal/Amt@Ccy)", st.Currency, ccy)
	d.str("Stmt/Acct/Ownr/Nm", st.Owner, owner)
	d.str("Stmt/Acct/Svcr/FinInstnId/BICFI", st.ServicerBIC, bic)

	if len(st.Balances) != len(m.Bal) {
		d.add("Stmt/Bal", fmt.Sprintf("%d balances", len(st.Balances)), strconv.Itoa(len(m.Bal)))
	} else {
		for j, mb := range m.Bal {
			b := st.Balances[j]
			loc := d.loc
			d.loc = fmt.Sprintf("%s/Bal[%d]", loc, j+1)
			d.str("Bal/Tp/CdOrPrtry", b.Code, firstNonEmpty(string(mb.Tp.CdOrPrtry.Cd), string(mb.Tp.CdOrPrtry.Prtry)))
			d.amount("Bal/Amt", b.Amount, mb.Amt.Value)
			d.str("Bal/Amt@Ccy", b.Currency, trv(mb.Amt.Ccy))
			d.str("Bal/CdtDbtInd", map[bool]string{true: "CRDT", false: "DBIT"}[b.Credit], trv(mb.CdtDbtInd))
			d.when("Bal/Dt", b.Date, choiceDate(&mb.Dt))
			d.loc = loc
		}
	}

	if (st.Summary == nil) != (m.TxsSummry == nil) {
		d.add("Stmt/TxsSummry", fmt.Sprintf("present=%v", st.Summary != nil), fmt.Sprintf("present=%v", m.TxsSummry != nil))
	} else if s, ms := st.Summary, m.TxsSummry; s != nil {
		if t := ms.TtlNtries; t != nil {
			d.count("TxsSummry/TtlNtries/NbOfNtries", s.Count, t.NbOfNtries)
			d.optAmount("TxsSummry/TtlNtries/Sum", s.Sum, t.Sum)
			var net float64
			if t.TtlNetNtry != nil {
				net = t.TtlNetNtry.Amt
				if trv(t.TtlNetNtry.CdtDbtInd) == "DBIT" {
					net = -net
				}
			}
			d.optAmount("TxsSummry/TtlNtries/TtlNetNtry (signed)", s.Net, net)
		} else if s.Count != nil || s.Sum != nil || s.Net != nil {
			d.add("TxsSummry/TtlNtries", "present", "absent")
		}
		for _, x := range []struct {
			name  string
			count *int
			sum   *domain.Amount
			m     *camt_v08.NumberAndSumOfTransactions1
		}{{"TtlCdtNtries", s.CreditCount, s.CreditSum, ms.TtlCdtNtries}, {"TtlDbtNtries", s.DebitCount, s.DebitSum, ms.TtlDbtNtries}} {
			if x.m == nil {
				if x.count != nil || x.sum != nil {
					d.add("TxsSummry/"+x.name, "present", "absent")
				}
				continue
			}
			d.count("TxsSummry/"+x.name+"/NbOfNtries", x.count, x.m.NbOfNtries)
			d.optAmount("TxsSummry/"+x.name+"/Sum", x.sum, x.m.Sum)
		}
	}

	if len(st.Entries) != len(m.Ntry) || st.EntryCount != len(m.Ntry) {
		d.add("Stmt/Ntry", fmt.Sprintf("%d entries (EntryCount %d)", len(st.Entries), st.EntryCount), strconv.Itoa(len(m.Ntry)))
		return
	}
	stLoc := d.loc
	for j := range m.Ntry {
		d.loc = fmt.Sprintf("%s/Ntry[%d]", stLoc, j+1)
		compareEntry(d, st.Entries[j], &m.Ntry[j])
	}
	d.loc = stLoc
}

func bankTxCode(m *camt_v08.BankTransactionCodeStructure4) BankTxCode {
	var c BankTxCode
	if m == nil {
		return c
	}
	if m.Domn != nil {
		c.Domain, c.Family, c.SubFamily = trv(m.Domn.Cd), trv(m.Domn.Fmly.Cd), trv(m.Domn.Fmly.SubFmlyCd)
	}
	if m.Prtry != nil {
		c.Proprietary, c.Issuer = trv(m.Prtry.Cd), tr(m.Prtry.Issr)
	}
	return c
}

func (d *differ) bankTxCode(field string, ours BankTxCode, theirs *camt_v08.BankTransactionCodeStructure4) {
	d.str(field, fmt.Sprintf("%+v", ours), fmt.Sprintf("%+v", bankTxCode(theirs)))
}

func (d *differ) charges(field string, ours *Charges, theirs *camt_v08.Charges6) {
	var want *Charges
	if theirs != nil {
		want = &Charges{}
		if t := theirs.TtlChrgsAndTaxAmt; t != nil {
			want.Total = &Money{Currency: trv(t.Ccy)}
		}
		for _, r := range theirs.Rcrd {
			c := Charge{Amount: Money{Currency: trv(r.Amt.Ccy)}}
			if r.Tp != nil {
				c.Type = firstNonEmpty(string(r.Tp.Cd), string(r.Tp.Prtry.Id))
			}
			want.Records = append(want.Records, c)
		}
		if want.Total == nil && len(want.Records) == 0 {
			want = nil
		}
	}
	if (ours == nil) != (want == nil) {
		d.add(field, fmt.Sprintf("present=%v", ours != nil), fmt.Sprintf("present=%v", want != nil))
		return
	}
	if ours == nil {
		return
	}
	if (ours.Total == nil) != (want.Total == nil) {
		d.add(field+"/TtlChrgsAndTaxAmt", fmt.Sprintf("present=%v", ours.Total != nil), fmt.Sprintf("present=%v", want.Total != nil))
	} else if ours.Total != nil {
		d.money(field+"/TtlChrgsAndTaxAmt", ours.Total, theirs.TtlChrgsAndTaxAmt)
	}
	if len(ours.Records) != len(theirs.Rcrd) {
		d.add(field+"/Rcrd", fmt.Sprintf("%d records", len(ours.Records)), strconv.Itoa(len(theirs.Rcrd)))
		return
	}
	for i, r := range theirs.Rcrd {
		c := ours.Records[i]
		d.money(field+"/Rcrd/Amt", &c.Amount, &r.Amt)
		d.flag(field+"/Rcrd/CdtDbtInd", c.Credit, r.CdtDbtInd)
		inc := c.Included != nil && *c.Included
		if inc != r.ChrgInclInd {
			d.add(field+"/Rcrd/ChrgInclInd", fmt.Sprint(c.Included != nil && *c.Included), fmt.Sprint(r.ChrgInclInd))
		}
		d.str(field+"/Rcrd/Tp", c.Type, want.Records[i].Type)
	}
}

func compareEntry(d *differ, e *Entry, m *camt_v08.ReportEntry10) {
	d.amount("Ntry/Amt", e.Amount, m.Amt.Value)
	d.str("Ntry/Amt@Ccy", e.Currency, trv(m.Amt.Ccy))
	d.str("Ntry/CdtDbtInd", map[bool]string{true: "CRDT", false: "DBIT"}[e.Credit], trv(m.CdtDbtInd))
	d.str("Ntry/RvslInd", strconv.FormatBool(e.Reversal), strconv.FormatBool(m.RvslInd))
	d.str("Ntry/Sts", e.Status, firstNonEmpty(string(m.Sts.Cd), string(m.Sts.Prtry)))
	d.when("Ntry/BookgDt", e.BookingDate, choiceDate(m.BookgDt))
	d.when("Ntry/ValDt", e.ValueDate, choiceDate(m.ValDt))
	d.str("Ntry/AcctSvcrRef", e.AcctSvcrRef, tr(m.AcctSvcrRef))
	d.str("Ntry/NtryRef", e.NtryRef, tr(m.NtryRef))
	d.bankTxCode("Ntry/BkTxCd", e.BankTxCode, &m.BkTxCd)
	d.charges("Ntry/Chrgs", e.Charges, m.Chrgs)
	var instd *camt_v08.ActiveOrHistoricCurrencyAndAmount
	if m.AmtDtls != nil && m.AmtDtls.InstdAmt != nil {
		instd = &m.AmtDtls.InstdAmt.Amt
	}
	d.money("Ntry/AmtDtls/InstdAmt/Amt", e.Instructed, instd)
	d.str("Ntry/AddtlNtryInf", e.AdditionalInfo, tr(m.AddtlNtryInf))

	// Batches, one per NtryDtls that has one.
	var btch []*camt_v08.BatchInformation2
	var txs []*camt_v08.EntryTransaction10
	for i := range m.NtryDtls {
		nd := &m.NtryDtls[i]
		if nd.Btch != nil {
			btch = append(btch, nd.Btch)
		}
		for j := range nd.TxDtls {
			txs = append(txs, &nd.TxDtls[j])
		}
	}
	if len(e.Batches) != len(btch) {
		d.add("Ntry/NtryDtls/Btch", fmt.Sprintf("%d batches", len(e.Batches)), strconv.Itoa(len(btch)))
	} else {
		sum := 0
		for i, mb := range btch {
			b := e.Batches[i]
			d.str("Btch/MsgId", b.MsgID, tr(mb.MsgId))
			d.str("Btch/PmtInfId", b.PmtInfID, tr(mb.PmtInfId))
			n := 0
			if mb.NbOfTxs != nil {
				n, _ = strconv.Atoi(trv(*mb.NbOfTxs))
			}
			sum += n
			d.str("Btch/NbOfTxs", strconv.Itoa(b.Count), strconv.Itoa(n))
			d.money("Btch/TtlAmt", b.Total, mb.TtlAmt)
			d.flag("Btch/CdtDbtInd", b.Credit, mb.CdtDbtInd)
		}
		d.str("Ntry(BatchCount)", strconv.Itoa(e.BatchCount), strconv.Itoa(sum))
	}
	if len(e.Transactions) != len(txs) {
		d.add("Ntry/NtryDtls/TxDtls", fmt.Sprintf("%d details", len(e.Transactions)), strconv.Itoa(len(txs)))
		return
	}
	entLoc := d.loc
	for k, mt := range txs {
		d.loc = fmt.Sprintf("%s/TxDtls[%d]", entLoc, k+1)
		compareTx(d, e.Transactions[k], mt)
	}
	d.loc = entLoc
}

func amtXchg(m *camt_v08.AmountAndCurrencyExchangeDetails3) *camt_v08.ActiveOrHistoricCurrencyAndAmount {
	if m == nil {
		return nil
	}
	return &m.Amt
}

func (d *differ) amountDetail(field string, ours *AmountDetail, theirs *camt_v08.AmountAndCurrencyExchangeDetails3) {
	var m *Money
	if ours != nil {
		m = &ours.Money
	}
	d.money(field+"/Amt", m, amtXchg(theirs))
	if ours == nil || theirs == nil {
		return
	}
	x := theirs.CcyXchg
	if (ours.Exchange == nil) != (x == nil) {
		d.add(field+"/CcyXchg", fmt.Sprintf("present=%v", ours.Exchange != nil), fmt.Sprintf("present=%v", x != nil))
		return
	}
	if x == nil {
		return
	}
	d.str(field+"/CcyXchg/SrcCcy", ours.Exchange.Source, trv(x.SrcCcy))
	d.str(field+"/CcyXchg/TrgtCcy", ours.Exchange.Target, tr(x.TrgtCcy))
	d.str(field+"/CcyXchg/UnitCcy", ours.Exchange.Unit, tr(x.UnitCcy))
	rate, err := strconv.ParseFloat(ours.Exchange.Rate, 64)
	if err != nil || !sameFloat(rate, x.XchgRate) {
		d.add(field+"/CcyXchg/XchgRate", ours.Exchange.Rate, strconv.FormatFloat(x.XchgRate, 'g', -1, 64))
	}
}

// party builds the Party Lettrage should report from moov's parts.
func party(p *camt_v08.Party40Choice, acct *camt_v08.CashAccount38, agt *camt_v08.BranchAndFinancialInstitutionIdentification6) *Party {
	out := &Party{}
	if p != nil && p.Pty != nil {
		out.Name = tr(p.Pty.Nm)
	}
	if acct != nil && acct.Id != nil {
		if iban := NormalizeIBAN(string(acct.Id.IBAN)); iban != "" {
			out.IBAN = iban
		} else {
			out.Account = trv(acct.Id.Othr.Id)
		}
	}
	if agt != nil {
		out.BIC = strings.ToUpper(tr(agt.FinInstnId.BICFI))
	}
	if *out == (Party{}) {
		return nil
	}
	return out
}

func (d *differ) party(field string, ours, want *Party) {
	o, w := "absent", "absent"
	if ours != nil {
		o = fmt.Sprintf("%+v", *ours)
	}
	if want != nil {
		w = fmt.Sprintf("%+v", *want)
	}
	d.str(field, o, w)
}

func compareTx(d *differ, t *TxDetail, m *camt_v08.EntryTransaction10) {
	var r camt_v08.TransactionReferences6
	if m.Refs != nil {
		r = *m.Refs
	}
	d.str("TxDtls/Refs/MsgId", t.Refs.MsgID, tr(r.MsgId))
	d.str("TxDtls/Refs/AcctSvcrRef", t.Refs.AcctSvcrRef, tr(r.AcctSvcrRef))
	d.str("TxDtls/Refs/PmtInfId", t.Refs.PmtInfID, tr(r.PmtInfId))
	d.str("TxDtls/Refs/InstrId", t.Refs.InstrID, tr(r.InstrId))
	d.str("TxDtls/Refs/EndToEndId", t.Refs.EndToEndID, tr(r.EndToEndId))
	d.str("TxDtls/Refs/UETR", t.Refs.UETR, tr(r.UETR))
	d.str("TxDtls/Refs/TxId", t.Refs.TxID, tr(r.TxId))
	d.str("TxDtls/Refs/MndtId", t.Refs.MndtID, tr(r.MndtId))
	d.str("TxDtls/Refs/ChqNb", t.Refs.ChqNb, tr(r.ChqNb))
	d.str("TxDtls/Refs/ClrSysRef", t.Refs.ClrSysRef, tr(r.ClrSysRef))
	d.money("TxDtls/Amt", t.Amount, m.Amt)
	d.flag("TxDtls/CdtDbtInd", t.Credit, m.CdtDbtInd)
	var ad camt_v08.AmountAndCurrencyExchange3
	if m.AmtDtls != nil {
		ad = *m.AmtDtls
	}
	d.amountDetail("TxDtls/AmtDtls/InstdAmt", t.Instructed, ad.InstdAmt)
	d.amountDetail("TxDtls/AmtDtls/TxAmt", t.TxAmount, ad.TxAmt)
	d.amountDetail("TxDtls/AmtDtls/CntrValAmt", t.CounterValue, ad.CntrValAmt)
	if (t.BankTxCode == nil) != (m.BkTxCd == nil) {
		d.add("TxDtls/BkTxCd", fmt.Sprintf("present=%v", t.BankTxCode != nil), fmt.Sprintf("present=%v", m.BkTxCd != nil))
	} else if m.BkTxCd != nil {
		d.bankTxCode("TxDtls/BkTxCd", *t.BankTxCode, m.BkTxCd)
	}
	d.charges("TxDtls/Chrgs", t.Charges, m.Chrgs)

	var p camt_v08.TransactionParties6
	if m.RltdPties != nil {
		p = *m.RltdPties
	}
	var a camt_v08.TransactionAgents5
	if m.RltdAgts != nil {
		a = *m.RltdAgts
	}
	d.party("TxDtls/RltdPties/Dbtr+DbtrAcct+RltdAgts/DbtrAgt", t.Debtor, party(p.Dbtr, p.DbtrAcct, a.DbtrAgt))
	d.party("TxDtls/RltdPties/Cdtr+CdtrAcct+RltdAgts/CdtrAgt", t.Creditor, party(p.Cdtr, p.CdtrAcct, a.CdtrAgt))
	d.party("TxDtls/RltdPties/UltmtDbtr", t.UltimateDebtor, party(p.UltmtDbtr, nil, nil))
	d.party("TxDtls/RltdPties/UltmtCdtr", t.UltimateCreditor, party(p.UltmtCdtr, nil, nil))

	compareRemittance(d, &t.Remittance, m.RmtInf)

	if (t.Return == nil) != (m.RtrInf == nil) {
		d.add("TxDtls/RtrInf", fmt.Sprintf("present=%v", t.Return != nil), fmt.Sprintf("present=%v", m.RtrInf != nil))
	} else if m.RtrInf != nil {
		reason := ""
		if m.RtrInf.Rsn != nil {
			reason = firstNonEmpty(string(m.RtrInf.Rsn.Cd), string(m.RtrInf.Rsn.Prtry))
		}
		d.str("TxDtls/RtrInf/Rsn", t.Return.Reason, reason)
		var info []string
		for _, s := range m.RtrInf.AddtlInf {
			info = append(info, string(s))
		}
		d.str("TxDtls/RtrInf/AddtlInf", strings.Join(t.Return.AdditionalInfo, "|"), strings.Join(trimAll(info), "|"))
	}
	d.str("TxDtls/AddtlTxInf", t.AdditionalInfo, tr(m.AddtlTxInf))
}

func compareRemittance(d *differ, ours *Remittance, m *camt_v08.RemittanceInformation16) {
	var ustrd []string
	var strd []camt_v08.StructuredRemittanceInformation16
	if m != nil {
		for _, u := range m.Ustrd {
			ustrd = append(ustrd, string(u))
		}
		strd = m.Strd
	}
	d.str("TxDtls/RmtInf/Ustrd", strings.Join(ours.Unstructured, "|"), strings.Join(trimAll(ustrd), "|"))
	if len(ours.Structured) != len(strd) {
		d.add("TxDtls/RmtInf/Strd", fmt.Sprintf("%d blocks", len(ours.Structured)), strconv.Itoa(len(strd)))
		return
	}
	for i, ms := range strd {
		s := ours.Structured[i]
		// Referred documents: those with a type, number or date.
		var want []string
		for _, rd := range ms.RfrdDocInf {
			typ := ""
			if rd.Tp != nil {
				typ = firstNonEmpty(string(rd.Tp.CdOrPrtry.Cd), string(rd.Tp.CdOrPrtry.Prtry))
			}
			var dt time.Time
			if rd.RltdDt != nil {
				dt = time.Time(*rd.RltdDt)
			}
			if typ == "" && tr(rd.Nb) == "" && rd.RltdDt == nil {
				continue
			}
			want = append(want, fmt.Sprintf("%s %q %s", typ, tr(rd.Nb), dt.Format(time.RFC3339)))
		}
		var got []string
		for _, doc := range s.Documents {
			var dt time.Time
			if doc.Date != "" {
				if p, err := parseDateTime(doc.Date); err == nil && p != nil {
					dt = *p
				}
			}
			got = append(got, fmt.Sprintf("%s %q %s", doc.Type, doc.Number, dt.Format(time.RFC3339)))
		}
		d.str("Strd/RfrdDocInf (Tp Nb RltdDt)", strings.Join(got, "|"), strings.Join(want, "|"))

		var ref *domain.Reference
		if c := ms.CdtrRefInf; c != nil {
			r := domain.Reference{Value: tr(c.Ref)}
			if c.Tp != nil {
				r.Type = firstNonEmpty(string(c.Tp.CdOrPrtry.Cd), string(c.Tp.CdOrPrtry.Prtry))
				r.Issuer = tr(c.Tp.Issr)
			}
			if r != (domain.Reference{}) {
				ref = &r
			}
		}
		o, w := "absent", "absent"
		if s.CreditorRef != nil {
			o = fmt.Sprintf("%+v", *s.CreditorRef)
		}
		if ref != nil {
			w = fmt.Sprintf("%+v", *ref)
		}
		d.str("Strd/CdtrRefInf (Tp Issr Ref)", o, w)
		var addtl []string
		for _, a := range ms.AddtlRmtInf {
			addtl = append(addtl, string(a))
		}
		d.str("Strd/AddtlRmtInf", strings.Join(s.Additional, "|"), strings.Join(trimAll(addtl), "|"))
		compareDocAmounts(d, s.Amounts, ms.RfrdDocAmt)
	}
}

// compareDocAmounts compares RfrdDocAmt. DuePyblAmt, CdtNoteAmt and
// RmtdAmt are single amounts. DscntApldAmt and TaxAmt repeat, each with an
// optional type (.08: DiscountAmountAndType1, TaxAmountAndType1): the model
// keeps one item per element, in order, and their total. AdjstmntAmtAndRsn
// repeats: one Adjustment per element, in order.
func compareDocAmounts(d *differ, ours *DocumentAmounts, m *camt_v08.RemittanceAmount2) {
	if m == nil || (m.DuePyblAmt == nil && m.CdtNoteAmt == nil && m.RmtdAmt == nil &&
		len(m.DscntApldAmt) == 0 && len(m.TaxAmt) == 0 && len(m.AdjstmntAmtAndRsn) == 0) {
		if ours != nil {
			d.add("Strd/RfrdDocAmt", fmt.Sprintf("%+v", *ours), "no amount")
		}
		return
	}
	if ours == nil {
		ours = &DocumentAmounts{}
	}
	d.money("Strd/RfrdDocAmt/DuePyblAmt", ours.DuePayable, m.DuePyblAmt)
	d.money("Strd/RfrdDocAmt/CdtNoteAmt", ours.CreditNote, m.CdtNoteAmt)
	d.money("Strd/RfrdDocAmt/RmtdAmt", ours.Remitted, m.RmtdAmt)
	var dscnt, tax []moovTypedAmount
	for _, x := range m.DscntApldAmt {
		t := moovTypedAmount{amt: &x.Amt}
		if x.Tp != nil {
			t.cd, t.prtry = trv(x.Tp.Cd), trv(x.Tp.Prtry)
		}
		dscnt = append(dscnt, t)
	}
	for _, x := range m.TaxAmt {
		t := moovTypedAmount{amt: &x.Amt}
		if x.Tp != nil {
			t.cd, t.prtry = trv(x.Tp.Cd), trv(x.Tp.Prtry)
		}
		tax = append(tax, t)
	}
	d.typedAmounts("Strd/RfrdDocAmt/DscntApldAmt", ours.Discounts, ours.Discount, dscnt)
	d.typedAmounts("Strd/RfrdDocAmt/TaxAmt", ours.Taxes, ours.Tax, tax)

	const adj = "Strd/RfrdDocAmt/AdjstmntAmtAndRsn"
	if len(ours.Adjustments) != len(m.AdjstmntAmtAndRsn) {
		d.add(adj+" (count)", fmt.Sprintf("%d adjustments", len(ours.Adjustments)), strconv.Itoa(len(m.AdjstmntAmtAndRsn)))
		return
	}
	for i, x := range m.AdjstmntAmtAndRsn {
		a := ours.Adjustments[i]
		d.money(adj+"/Amt", &a.Money, &x.Amt)
		d.flag(adj+"/CdtDbtInd", a.Credit, x.CdtDbtInd)
		d.str(adj+"/Rsn", a.Reason, tr(x.Rsn))
		d.str(adj+"/AddtlInf", a.AdditionalInfo, tr(x.AddtlInf))
	}
}

// moovTypedAmount is a DscntApldAmt or TaxAmt as moov-io decodes it.
type moovTypedAmount struct {
	amt       *camt_v08.ActiveOrHistoricCurrencyAndAmount
	cd, prtry string // Tp/Cd, Tp/Prtry
}

// typedAmounts compares the DscntApldAmt or TaxAmt items (field) one by
// one, and their total: the exact sum of the items when moov-io's are all
// in one currency, absent when they are in several (or there are none).
func (d *differ) typedAmounts(field string, ours []TypedAmount, total *Money, theirs []moovTypedAmount) {
	if len(ours) != len(theirs) {
		d.add(field+" (count)", fmt.Sprintf("%d amounts", len(ours)), strconv.Itoa(len(theirs)))
		return
	}
	for i, x := range theirs {
		d.money(field+"/Amt", &ours[i].Money, x.amt)
		d.str(field+"/Tp/Cd", ours[i].Code, x.cd)
		d.str(field+"/Tp/Prtry", ours[i].Proprietary, x.prtry)
	}
	var want *Money
	for i, x := range theirs {
		if i == 0 {
			want = &Money{Amount: ours[0].Amount, Currency: trv(x.amt.Ccy)}
			continue
		}
		if trv(x.amt.Ccy) != want.Currency {
			want = nil
			break
		}
		want.Amount = want.Amount.Add(ours[i].Amount)
	}
	o, w := "absent", "absent"
	if total != nil {
		o = total.Amount.String() + " " + total.Currency
	}
	if want != nil {
		w = want.Amount.String() + " " + want.Currency
	}
	if o != w || total != nil && !total.Amount.Equal(want.Amount) {
		d.add(field+" (total)", o, w)
	}
}

// TestXSDGenOracle makes sure the comparison with moov-io can fail: on
// generated documents that ReadAll reads as moov-io does, each field of
// the model is altered in turn, and compareMoov must report it. Every
// alteration must apply to at least one document, so that the generator
// keeps producing what the comparison checks.
func TestXSDGenOracle(t *testing.T) {
	schemas := loadCamtSchemas(t, needSpecDir(t))
	r := rand.New(rand.NewPCG(12, 34))
	opt := defaultGenOptions()
	gens := map[string]*docGen{}
	for _, msg := range camtMessages {
		g, err := newDocGen(schemas[msg], msg, r, opt)
		if err != nil {
			t.Fatal(err)
		}
		gens[msg] = g
	}
	one := domain.MustAmount("1")
	// Amounts are changed by more than float64 can lose (2a+1: moov-io
	// cannot tell 999999999999999999 from its successor).
	bump := func(a domain.Amount) domain.Amount { return a.Add(a).Add(one) }
	day := func(p **time.Time) bool {
		if *p == nil {
			return false
		}
		x := (*p).AddDate(0, 0, 1)
		*p = &x
		return true
	}
	entry := func(f func(*Entry) bool) func(*Document) bool {
		return func(d *Document) bool {
			for _, st := range d.Statements {
				for _, e := range st.Entries {
					if f(e) {
						return true
					}
				}
			}
			return false
		}
	}
	tx := func(f func(*TxDetail) bool) func(*Document) bool {
		return entry(func(e *Entry) bool {
			for _, x := range e.Transactions {
				if f(x) {
					return true
				}
			}
			return false
		})
	}
	// docAmounts applies f to the RfrdDocAmt of the Strd blocks in turn.
	docAmounts := func(f func(*DocumentAmounts) bool) func(*Document) bool {
		return tx(func(x *TxDetail) bool {
			for _, s := range x.Remittance.Structured {
				if s.Amounts != nil && f(s.Amounts) {
					return true
				}
			}
			return false
		})
	}
	setAmount := func(p *domain.Amount, v domain.Amount) bool { *p = v; return true }
	stmt := func(f func(*Statement) bool) func(*Document) bool {
		return func(d *Document) bool {
			for _, st := range d.Statements {
				if f(st) {
					return true
				}
			}
			return false
		}
	}
	edit := func(s *string) bool { *s += "x"; return true }
	mutations := map[string]func(*Document) bool{
		"MsgId":           func(d *Document) bool { return edit(&d.MsgID) },
		"Stmt/Id":         stmt(func(s *Statement) bool { return edit(&s.ID) }),
		"Stmt/CreDtTm":    stmt(func(s *Statement) bool { return day(&s.Created) }),
		"Stmt/FrDtTm":     stmt(func(s *Statement) bool { return day(&s.From) }),
		"Stmt/Acct":       stmt(func(s *Statement) bool { return edit(&s.Account) }),
		"Stmt/Ccy":        stmt(func(s *Statement) bool { return edit(&s.Currency) }),
		"Stmt/Ownr":       stmt(func(s *Statement) bool { return s.Owner != "" && edit(&s.Owner) }),
		"Stmt/Svcr":       stmt(func(s *Statement) bool { return s.ServicerBIC != "" && edit(&s.ServicerBIC) }),
		"Stmt/ElctrncSeq": stmt(func(s *Statement) bool { return s.ElctrncSeqNb != "" && edit(&s.ElctrncSeqNb) }),
		"Bal/Amt": stmt(func(s *Statement) bool {
			if len(s.Balances) == 0 {
				return false
			}
			s.Balances[0].Amount = bump(s.Balances[0].Amount)
			return true
		}),
		"Bal/Code":   stmt(func(s *Statement) bool { return len(s.Balances) > 0 && edit(&s.Balances[0].Code) }),
		"Bal/Credit": stmt(func(s *Statement) bool { return len(s.Balances) > 0 && flip(&s.Balances[0].Credit) }),
		"Bal/Date":   stmt(func(s *Statement) bool { return len(s.Balances) > 0 && day(&s.Balances[0].Date) }),
		"TxsSummry/Count": stmt(func(s *Statement) bool {
			if s.Summary == nil || s.Summary.Count == nil {
				return false
			}
			*s.Summary.Count++
			return true
		}),
		"TxsSummry/Net": stmt(func(s *Statement) bool {
			if s.Summary == nil || s.Summary.Net == nil {
				return false
			}
			*s.Summary.Net = bump(*s.Summary.Net)
			return true
		}),
		"TxsSummry/DebitSum": stmt(func(s *Statement) bool {
			if s.Summary == nil || s.Summary.DebitSum == nil {
				return false
			}
			*s.Summary.DebitSum = bump(*s.Summary.DebitSum)
			return true
		}),
		"Ntry/Amt":         entry(func(e *Entry) bool { e.Amount = bump(e.Amount); return true }),
		"Ntry/Ccy":         entry(func(e *Entry) bool { return edit(&e.Currency) }),
		"Ntry/Credit":      entry(func(e *Entry) bool { return flip(&e.Credit) }),
		"Ntry/Reversal":    entry(func(e *Entry) bool { return flip(&e.Reversal) }),
		"Ntry/Sts":         entry(func(e *Entry) bool { return edit(&e.Status) }),
		"Ntry/BookgDt":     entry(func(e *Entry) bool { return day(&e.BookingDate) }),
		"Ntry/ValDt":       entry(func(e *Entry) bool { return day(&e.ValueDate) }),
		"Ntry/AcctSvcrRef": entry(func(e *Entry) bool { return edit(&e.AcctSvcrRef) }),
		"Ntry/NtryRef":     entry(func(e *Entry) bool { return edit(&e.NtryRef) }),
		"Ntry/BkTxCd":      entry(func(e *Entry) bool { return edit(&e.BankTxCode.SubFamily) }),
		"Ntry/Instructed": entry(func(e *Entry) bool {
			return e.Instructed != nil && edit(&e.Instructed.Currency)
		}),
		"Ntry/Chrgs": entry(func(e *Entry) bool {
			return e.Charges != nil && len(e.Charges.Records) > 0 && edit(&e.Charges.Records[0].Type)
		}),
		"Ntry/Btch": entry(func(e *Entry) bool { return len(e.Batches) > 0 && edit(&e.Batches[0].PmtInfID) }),
		"Ntry/BatchCount": entry(func(e *Entry) bool {
			if len(e.Batches) == 0 {
				return false
			}
			e.Batches[0].Count++
			return true
		}),
		"Ntry/AddtlNtryInf":  entry(func(e *Entry) bool { return edit(&e.AdditionalInfo) }),
		"TxDtls/AcctSvcrRef": tx(func(x *TxDetail) bool { return edit(&x.Refs.AcctSvcrRef) }),
		"TxDtls/EndToEndId":  tx(func(x *TxDetail) bool { return edit(&x.Refs.EndToEndID) }),
		"TxDtls/UETR":        tx(func(x *TxDetail) bool { return x.Refs.UETR != "" && edit(&x.Refs.UETR) }),
		"TxDtls/ChqNb":       tx(func(x *TxDetail) bool { return edit(&x.Refs.ChqNb) }),
		"TxDtls/ClrSysRef":   tx(func(x *TxDetail) bool { return edit(&x.Refs.ClrSysRef) }),
		"TxDtls/MsgId":       tx(func(x *TxDetail) bool { return edit(&x.Refs.MsgID) }),
		"TxDtls/Amt":         tx(func(x *TxDetail) bool { return x.Amount != nil && edit(&x.Amount.Currency) }),
		"TxDtls/CdtDbtInd":   tx(func(x *TxDetail) bool { return x.Credit != nil && flip(x.Credit) }),
		"TxDtls/InstdAmt":    tx(func(x *TxDetail) bool { return x.Instructed != nil && edit(&x.Instructed.Currency) }),
		"TxDtls/TxAmt":       tx(func(x *TxDetail) bool { return x.TxAmount != nil && edit(&x.TxAmount.Currency) }),
		"TxDtls/CcyXchg": tx(func(x *TxDetail) bool {
			return x.TxAmount != nil && x.TxAmount.Exchange != nil && edit(&x.TxAmount.Exchange.Rate)
		}),
		"TxDtls/BkTxCd":   tx(func(x *TxDetail) bool { return x.BankTxCode != nil && edit(&x.BankTxCode.Proprietary) }),
		"TxDtls/Dbtr/Nm":  tx(func(x *TxDetail) bool { return x.Debtor != nil && x.Debtor.Name != "" && edit(&x.Debtor.Name) }),
		"TxDtls/DbtrAcct": tx(func(x *TxDetail) bool { return x.Debtor != nil && x.Debtor.IBAN != "" && edit(&x.Debtor.IBAN) }),
		"TxDtls/CdtrAcct/Oth": tx(func(x *TxDetail) bool {
			return x.Creditor != nil && x.Creditor.Account != "" && edit(&x.Creditor.Account)
		}),
		"TxDtls/CdtrAgt":   tx(func(x *TxDetail) bool { return x.Creditor != nil && x.Creditor.BIC != "" && edit(&x.Creditor.BIC) }),
		"TxDtls/UltmtDbtr": tx(func(x *TxDetail) bool { return x.UltimateDebtor != nil && edit(&x.UltimateDebtor.Name) }),
		"TxDtls/Ustrd": tx(func(x *TxDetail) bool {
			return len(x.Remittance.Unstructured) > 0 && edit(&x.Remittance.Unstructured[0])
		}),
		"Strd/CdtrRefInf": tx(func(x *TxDetail) bool {
			for _, s := range x.Remittance.Structured {
				if s.CreditorRef != nil && s.CreditorRef.Value != "" {
					return edit(&s.CreditorRef.Value)
				}
			}
			return false
		}),
		"Strd/RfrdDocInf/Nb": tx(func(x *TxDetail) bool {
			for _, s := range x.Remittance.Structured {
				if len(s.Documents) > 0 {
					return edit(&s.Documents[0].Number)
				}
			}
			return false
		}),
		"Strd/RfrdDocAmt/RmtdAmt": tx(func(x *TxDetail) bool {
			for _, s := range x.Remittance.Structured {
				if s.Amounts != nil && s.Amounts.Remitted != nil {
					return edit(&s.Amounts.Remitted.Currency)
				}
			}
			return false
		}),
		"Strd/RfrdDocAmt/DuePyblAmt": docAmounts(func(a *DocumentAmounts) bool {
			return a.DuePayable != nil && setAmount(&a.DuePayable.Amount, bump(a.DuePayable.Amount))
		}),
		"Strd/RfrdDocAmt/CdtNoteAmt": docAmounts(func(a *DocumentAmounts) bool {
			return a.CreditNote != nil && edit(&a.CreditNote.Currency)
		}),
		"TxDtls/RtrInf":     tx(func(x *TxDetail) bool { return x.Return != nil && edit(&x.Return.Reason) }),
		"TxDtls/AddtlTxInf": tx(func(x *TxDetail) bool { return edit(&x.AdditionalInfo) }),
	}
	// The repeated DscntApldAmt and TaxAmt: each item's amount, currency
	// and type, their number and their total.
	for _, k := range []struct {
		name  string
		items func(*DocumentAmounts) *[]TypedAmount
		total func(*DocumentAmounts) **Money
	}{
		{"DscntApldAmt", func(a *DocumentAmounts) *[]TypedAmount { return &a.Discounts }, func(a *DocumentAmounts) **Money { return &a.Discount }},
		{"TaxAmt", func(a *DocumentAmounts) *[]TypedAmount { return &a.Taxes }, func(a *DocumentAmounts) **Money { return &a.Tax }},
	} {
		item := func(f func(*TypedAmount) bool) func(*Document) bool {
			return docAmounts(func(a *DocumentAmounts) bool {
				for i := range *k.items(a) {
					if f(&(*k.items(a))[i]) {
						return true
					}
				}
				return false
			})
		}
		p := "Strd/RfrdDocAmt/" + k.name
		mutations[p+"/Amt"] = item(func(x *TypedAmount) bool { return setAmount(&x.Amount, bump(x.Amount)) })
		mutations[p+"/Amt@Ccy"] = item(func(x *TypedAmount) bool { return edit(&x.Currency) })
		mutations[p+"/Tp/Cd"] = item(func(x *TypedAmount) bool { return x.Code != "" && edit(&x.Code) })
		mutations[p+"/Tp/Prtry"] = item(func(x *TypedAmount) bool { return x.Proprietary != "" && edit(&x.Proprietary) })
		mutations[p+" (a type where there is none)"] = item(func(x *TypedAmount) bool {
			return x.Code == "" && x.Proprietary == "" && edit(&x.Code)
		})
		mutations[p+" (count)"] = docAmounts(func(a *DocumentAmounts) bool {
			items := k.items(a)
			if len(*items) == 0 {
				return false
			}
			*items = (*items)[:len(*items)-1]
			return true
		})
		mutations[p+" (total)"] = docAmounts(func(a *DocumentAmounts) bool {
			t := k.total(a)
			if *t == nil {
				return false
			}
			x := **t
			x.Amount = bump(x.Amount)
			*t = &x
			return true
		})
		// A total where the items are in several currencies.
		mutations[p+" (total of several currencies)"] = docAmounts(func(a *DocumentAmounts) bool {
			items, t := *k.items(a), k.total(a)
			if *t != nil || len(items) < 2 {
				return false
			}
			*t = &items[0].Money
			return true
		})
	}
	adjustment := func(f func(*Adjustment) bool) func(*Document) bool {
		return docAmounts(func(a *DocumentAmounts) bool {
			for i := range a.Adjustments {
				if f(&a.Adjustments[i]) {
					return true
				}
			}
			return false
		})
	}
	const adj = "Strd/RfrdDocAmt/AdjstmntAmtAndRsn"
	mutations[adj+"/Amt"] = adjustment(func(x *Adjustment) bool { return setAmount(&x.Amount, bump(x.Amount)) })
	mutations[adj+"/Amt@Ccy"] = adjustment(func(x *Adjustment) bool { return edit(&x.Currency) })
	mutations[adj+"/CdtDbtInd"] = adjustment(func(x *Adjustment) bool { return x.Credit != nil && flip(x.Credit) })
	mutations[adj+"/CdtDbtInd (where there is none)"] = adjustment(func(x *Adjustment) bool {
		if x.Credit != nil {
			return false
		}
		x.Credit = new(bool)
		return true
	})
	mutations[adj+"/Rsn"] = adjustment(func(x *Adjustment) bool { return x.Reason != "" && edit(&x.Reason) })
	mutations[adj+"/AddtlInf"] = adjustment(func(x *Adjustment) bool { return x.AdditionalInfo != "" && edit(&x.AdditionalInfo) })
	mutations[adj+" (count)"] = docAmounts(func(a *DocumentAmounts) bool {
		if len(a.Adjustments) == 0 {
			return false
		}
		a.Adjustments = a.Adjustments[:len(a.Adjustments)-1]
		return true
	})
	applied := map[string]int{}
	clean := 0
	const docs = 100
	for i := range docs {
		msg := camtMessages[i%len(camtMessages)]
		data := gens[msg].document()
		doc, err := ReadAll(bytes.NewReader(data), "oracle.xml", DefaultOptions())
		if err != nil {
			continue
		}
		m, err := decodeMoov(data)
		if err != nil || len(compareRead(doc, m)) > 0 {
			continue // TestXSDConformance reports these
		}
		clean++
		for name, mut := range mutations {
			if applied[name] >= 5 {
				continue // enough: keep the test quick
			}
			d, err := ReadAll(bytes.NewReader(data), "oracle.xml", DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if !mut(d) {
				continue
			}
			applied[name]++
			if len(compareRead(d, m)) == 0 {
				t.Errorf("document %d (%s): altering %s goes unnoticed by compareMoov", i, msg, name)
			}
		}
	}
	if clean < docs/2 {
		t.Fatalf("only %d of %d generated documents read as moov-io reads them", clean, docs)
	}
	for name := range mutations {
		if applied[name] == 0 {
			t.Errorf("alteration %s applied to none of %d documents: the generator does not produce that field", name, clean)
		}
	}
}

func flip(b *bool) bool { *b = !*b; return true }
