package camt

import (
	"time"

	"github.com/lettrage/lettrage/domain"
)

// File is what Parse returns: the message header and every statement with
// its balances, summary and consistency checks. Entries are not kept (they
// are handed to the callback one by one) except by ReadAll.
type File struct {
	Name       string       `json:"name,omitempty"`
	Type       string       `json:"type"`    // camt.052, camt.053 or camt.054
	Version    string       `json:"version"` // two digits, "02" for camt.053.001.02
	Namespace  string       `json:"namespace,omitempty"`
	MsgID      string       `json:"msg_id,omitempty"`
	Created    *time.Time   `json:"created,omitempty"`
	Statements []*Statement `json:"statements"`
}

// Statement is one Stmt (camt.053), Rpt (camt.052) or Ntfctn (camt.054).
// A file may hold several documents (concatenated, or in wrappers): each
// statement names the document it is in, with that document's message
// type, version and message id.
type Statement struct {
	Index int `json:"index"` // 1-based position in the file, counted across documents
	// Document is the 1-based position in the file of the document the
	// statement is in (1 in a file of a single document).
	Document int    `json:"document,omitempty"`
	Message  string `json:"message"`          // camt.052, camt.053 or camt.054, of its document
	Version  string `json:"version"`          // two digits, of its document
	MsgID    string `json:"msg_id,omitempty"` // its document's GrpHdr/MsgId
	ID       string `json:"id,omitempty"`
	// CopyDuplicate is CpyDplctInd: COPY, CODU (copy of a duplicate) or
	// DUPL, as written; empty for an original.
	CopyDuplicate string     `json:"copy_duplicate,omitempty"`
	ElctrncSeqNb  string     `json:"electronic_seq,omitempty"`
	LglSeqNb      string     `json:"legal_seq,omitempty"`
	Created       *time.Time `json:"created,omitempty"`
	From          *time.Time `json:"from,omitempty"`
	To            *time.Time `json:"to,omitempty"`
	// Account is the normalised IBAN, or Othr/Id when there is none.
	Account     string    `json:"account,omitempty"`
	AccountIBAN bool      `json:"account_is_iban,omitempty"`
	Currency    string    `json:"currency,omitempty"`
	Owner       string    `json:"owner,omitempty"`
	ServicerBIC string    `json:"servicer_bic,omitempty"`
	Balances    []Balance `json:"balances,omitempty"`
	Summary     *Summary  `json:"summary,omitempty"`
	// EntryCount is the number of entries read.
	EntryCount int `json:"entry_count"`
	// TxCount is the number of matcher transactions projected.
	TxCount int `json:"tx_count"`
	// Checks are the consistency checks, computed once the statement ends.
	Checks []Check `json:"checks,omitempty"`
	// Entries is filled by ReadAll only.
	Entries []*Entry `json:"entries,omitempty"`

	tally tally
}

// Balance is one Bal element.
type Balance struct {
	Code     string         `json:"code"` // Tp/CdOrPrtry/Cd, else Prtry
	Amount   domain.Amount  `json:"amount"`
	Currency string         `json:"currency"`
	Credit   bool           `json:"credit"`
	Date     *time.Time     `json:"date,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
	signed   *domain.Amount // Amount with the sign of Credit
}

// Summary is TxsSummry: totals the bank declares for the statement.
type Summary struct {
	Count       *int           `json:"count,omitempty"`
	Sum         *domain.Amount `json:"sum,omitempty"`
	Net         *domain.Amount `json:"net,omitempty"` // TtlNetNtry, signed (debit negative)
	CreditCount *int           `json:"credit_count,omitempty"`
	CreditSum   *domain.Amount `json:"credit_sum,omitempty"`
	DebitCount  *int           `json:"debit_count,omitempty"`
	DebitSum    *domain.Amount `json:"debit_sum,omitempty"`
}

// Check is one consistency check of a statement. A failed check does not
// reject the file; it is reported. A check that cannot be computed (the
// balance check of a statement whose entries are in another currency) is
// OK with a Detail that says so.
type Check struct {
	Name     string `json:"name"` // entry_count, entry_sum, credit_count, credit_sum, debit_count, debit_sum, net, balance, batch_count
	OK       bool   `json:"ok"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
	Detail   string `json:"detail,omitempty"`
}

// Money is an amount with its currency.
type Money struct {
	Amount   domain.Amount `json:"amount"`
	Currency string        `json:"currency"`
}

// BankTxCode is BkTxCd.
type BankTxCode struct {
	Domain      string `json:"domain,omitempty"`
	Family      string `json:"family,omitempty"`
	SubFamily   string `json:"sub_family,omitempty"`
	Proprietary string `json:"proprietary,omitempty"`
	Issuer      string `json:"issuer,omitempty"`
}

// Charge is one charge record (Chrgs or Chrgs/Rcrd).
type Charge struct {
	Amount   Money  `json:"amount"`
	Credit   *bool  `json:"credit,omitempty"`
	Included *bool  `json:"included,omitempty"` // ChrgInclInd
	Type     string `json:"type,omitempty"`
}

// Charges is what the bank charged for an entry or transaction.
type Charges struct {
	Total   *Money   `json:"total,omitempty"` // TtlChrgsAndTaxAmt
	Records []Charge `json:"records,omitempty"`
}

// Batch is one Btch block of an entry.
type Batch struct {
	MsgID    string `json:"msg_id,omitempty"`
	PmtInfID string `json:"pmt_inf_id,omitempty"`
	Count    int    `json:"count,omitempty"`
	Total    *Money `json:"total,omitempty"`
	Credit   *bool  `json:"credit,omitempty"`
}

// Entry is one Ntry.
type Entry struct {
	Index          int           `json:"index"` // 1-based inside its statement
	Offset         int64         `json:"-"`     // byte offset of <Ntry>
	Amount         domain.Amount `json:"amount"`
	Currency       string        `json:"currency"`
	Credit         bool          `json:"credit"`
	Reversal       bool          `json:"reversal,omitempty"`
	Status         string        `json:"status"`
	BookingDate    *time.Time    `json:"booking_date,omitempty"`
	ValueDate      *time.Time    `json:"value_date,omitempty"`
	AcctSvcrRef    string        `json:"acct_svcr_ref,omitempty"`
	NtryRef        string        `json:"ntry_ref,omitempty"`
	BankTxCode     BankTxCode    `json:"bank_tx_code"`
	Charges        *Charges      `json:"charges,omitempty"`
	Instructed     *Money        `json:"instructed,omitempty"` // AmtDtls/InstdAmt
	AdditionalInfo string        `json:"additional_info,omitempty"`
	Batches        []Batch       `json:"batches,omitempty"`
	// BatchCount is the sum of Btch/NbOfTxs (0 when the entry has no Btch).
	BatchCount   int         `json:"batch_count,omitempty"`
	Transactions []*TxDetail `json:"transactions,omitempty"`
	Warnings     []string    `json:"warnings,omitempty"`
	// Projected is filled by ReadAll only: what the callback of Parse gets.
	Projected []domain.Transaction `json:"projected,omitempty"`
}

// Refs are the references of one TxDtls.
type Refs struct {
	MsgID       string `json:"msg_id,omitempty"`
	AcctSvcrRef string `json:"acct_svcr_ref,omitempty"`
	PmtInfID    string `json:"pmt_inf_id,omitempty"`
	InstrID     string `json:"instr_id,omitempty"`
	EndToEndID  string `json:"end_to_end_id,omitempty"`
	UETR        string `json:"uetr,omitempty"`
	TxID        string `json:"tx_id,omitempty"`
	MndtID      string `json:"mndt_id,omitempty"`
	ChqNb       string `json:"chq_nb,omitempty"`
	ClrSysRef   string `json:"clr_sys_ref,omitempty"`
}

// Exchange is CcyXchg.
type Exchange struct {
	Source string `json:"source,omitempty"`
	Target string `json:"target,omitempty"`
	Unit   string `json:"unit,omitempty"`
	Rate   string `json:"rate,omitempty"`
}

// AmountDetail is one AmtDtls amount with its optional exchange.
type AmountDetail struct {
	Money
	Exchange *Exchange `json:"exchange,omitempty"`
}

// Party is a related party as written (Nm or Pty/Nm; account IBAN or
// Othr/Id; agent BIC or BICFI).
type Party struct {
	Name    string `json:"name,omitempty"`
	IBAN    string `json:"iban,omitempty"` // normalised
	Account string `json:"account,omitempty"`
	BIC     string `json:"bic,omitempty"`
}

// ReferredDocument is one Strd/RfrdDocInf.
type ReferredDocument struct {
	Type   string `json:"type,omitempty"`
	Number string `json:"number,omitempty"`
	Date   string `json:"date,omitempty"`
}

// DocumentAmounts is Strd/RfrdDocAmt. DscntApldAmt and TaxAmt are flat
// amounts in .01 and .02 and, from .03 on, repeatable structures with a
// type (DiscountAmountAndType1, TaxAmountAndType1): both shapes fill
// Discounts and Taxes, one item per element, and Discount and Tax are
// their totals.
type DocumentAmounts struct {
	DuePayable *Money `json:"due_payable,omitempty"`
	// Discount is the sum of Discounts; nil when they are in several
	// currencies (the transaction then carries a warning).
	Discount   *Money        `json:"discount,omitempty"`
	Discounts  []TypedAmount `json:"discounts,omitempty"`
	CreditNote *Money        `json:"credit_note,omitempty"`
	// Tax is the sum of Taxes; nil when they are in several currencies.
	Tax   *Money        `json:"tax,omitempty"`
	Taxes []TypedAmount `json:"taxes,omitempty"`
	// Adjustments are the AdjstmntAmtAndRsn elements, in order.
	Adjustments []Adjustment `json:"adjustments,omitempty"`
	Remitted    *Money       `json:"remitted,omitempty"`
}

// TypedAmount is one DscntApldAmt or TaxAmt: its amount and its Tp, a code
// (ExternalDiscountAmountType1Code, ExternalTaxAmountType1Code) or a
// proprietary type. The flat .01/.02 shape has no type.
type TypedAmount struct {
	Money
	Code        string `json:"code,omitempty"`        // Tp/Cd
	Proprietary string `json:"proprietary,omitempty"` // Tp/Prtry
}

// Adjustment is one AdjstmntAmtAndRsn (DocumentAdjustment1).
type Adjustment struct {
	Money
	// Credit is CdtDbtInd: whether the adjustment is added to (credit) or
	// subtracted from (debit) the amount due; nil when not given.
	Credit         *bool  `json:"credit,omitempty"`
	Reason         string `json:"reason,omitempty"` // Rsn, up to 4 characters
	AdditionalInfo string `json:"additional_info,omitempty"`
}

// Structured is one Strd block.
type Structured struct {
	Documents   []ReferredDocument `json:"documents,omitempty"`
	Amounts     *DocumentAmounts   `json:"amounts,omitempty"`
	CreditorRef *domain.Reference  `json:"creditor_ref,omitempty"`
	Additional  []string           `json:"additional,omitempty"`
}

// Remittance is RmtInf.
type Remittance struct {
	Unstructured []string     `json:"unstructured,omitempty"`
	Structured   []Structured `json:"structured,omitempty"`
}

// Return is RtrInf.
type Return struct {
	Reason         string   `json:"reason,omitempty"` // Rsn/Cd, else Rsn/Prtry
	AdditionalInfo []string `json:"additional_info,omitempty"`
}

// TxDetail is one TxDtls.
type TxDetail struct {
	Refs             Refs          `json:"refs"`
	Amount           *Money        `json:"amount,omitempty"`
	Credit           *bool         `json:"credit,omitempty"`
	Instructed       *AmountDetail `json:"instructed,omitempty"`    // AmtDtls/InstdAmt
	TxAmount         *AmountDetail `json:"tx_amount,omitempty"`     // AmtDtls/TxAmt
	CounterValue     *AmountDetail `json:"counter_value,omitempty"` // AmtDtls/CntrValAmt
	BankTxCode       *BankTxCode   `json:"bank_tx_code,omitempty"`
	Charges          *Charges      `json:"charges,omitempty"`
	Debtor           *Party        `json:"debtor,omitempty"`
	Creditor         *Party        `json:"creditor,omitempty"`
	UltimateDebtor   *Party        `json:"ultimate_debtor,omitempty"`
	UltimateCreditor *Party        `json:"ultimate_creditor,omitempty"`
	Remittance       Remittance    `json:"remittance"`
	Return           *Return       `json:"return,omitempty"`
	AdditionalInfo   string        `json:"additional_info,omitempty"`
	Warnings         []string      `json:"warnings,omitempty"`
}

// Document is a whole file read by ReadAll: the File with every entry kept
// in its statement (Statement.Entries, each with Entry.Projected).
type Document struct {
	File
}
