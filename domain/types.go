package domain

import (
	"strings"
	"time"
)

// Party is a payer or payee as the bank reports it.
type Party struct {
	Name         string `json:"name,omitempty"`
	IBAN         string `json:"iban,omitempty"`    // normalised: upper case, no spaces
	Account      string `json:"account,omitempty"` // Othr/Id when there is no IBAN
	BIC          string `json:"bic,omitempty"`
	UltimateName string `json:"ultimate_name,omitempty"` // UltmtDbtr (credits) / UltmtCdtr (debits)
}

// Reference is one structured creditor reference (Strd/CdtrRefInf).
type Reference struct {
	Type   string `json:"type,omitempty"`   // Tp/CdOrPrtry/Cd (SCOR) or Prtry (QRR, ISR Reference…)
	Issuer string `json:"issuer,omitempty"` // Tp/Issr (ISO, BBA, CUR…)
	Value  string `json:"value"`
}

// Transaction is one bank transaction: one TxDtls, or one Ntry without
// details. Only credits that are booked are lettered; the pipeline passes
// the others too so that they are counted as ignored.
type Transaction struct {
	// Key is the stable identity used by the state store: account + bank
	// reference (see docs/FORMATS.md "Transaction identity").
	Key string `json:"key"`
	// Ref is the tx_ref of the file contract: TxDtls/Refs/AcctSvcrRef, else
	// Ntry/AcctSvcrRef (suffixed /n for the n-th of several), else NtryRef
	// the same way, else a stable hash.
	Ref      string `json:"tx_ref"`
	Account  string `json:"account"` // IBAN (or Othr/Id) of the statement account
	Amount   Amount `json:"amount"`  // cash amount, always positive
	Currency string `json:"currency"`
	Credit   bool   `json:"credit"`
	Status   string `json:"status"` // BOOK, PDNG, INFO…
	Reversal bool   `json:"reversal,omitempty"`
	Return   bool   `json:"return,omitempty"` // RtrInf present

	BookingDate time.Time `json:"booking_date"`
	ValueDate   time.Time `json:"value_date"`

	Counterparty Party  `json:"counterparty"` // Dbtr for credits, Cdtr for debits
	EndToEndID   string `json:"end_to_end_id,omitempty"`

	Structured []Reference `json:"structured,omitempty"` // CdtrRefInf
	Documents  []string    `json:"documents,omitempty"`  // RfrdDocInf/Nb
	// Remitted lists the documents the structured remittance gives with
	// their own amounts (RmtInf/Strd with RfrdDocAmt): the payer's split
	// of the cash. Their numbers and references are in Documents and
	// Structured too. Empty for transactions recorded before it existed.
	Remitted     []RemittedDocument `json:"remitted,omitempty"`
	Unstructured []string           `json:"unstructured,omitempty"` // Ustrd lines, in order
	Additional   []string           `json:"additional,omitempty"`   // AddtlTxInf, AddtlNtryInf, AddtlRmtInf, configured XPath values

	// Conversion is the payer's instructed amount in another currency:
	// nil for the payments the banks did not convert (nearly all), so
	// that they do not carry its 56 bytes. Its fields are promoted, in
	// Go and in JSON (the same JSON as when they were the transaction's
	// own fields); read them through FX, which a nil Conversion answers.
	*Conversion

	// Origin is what the bank's file says about where the transaction comes
	// from: the evidence of its identity across deliveries and the links
	// between a batch entry and its details. The matcher ignores it; nil
	// for transactions recorded before it existed.
	Origin *Origin `json:"origin,omitempty"`
}

// Conversion is what the bank says of a payment converted between
// currencies (a Transaction's, when there is one).
type Conversion struct {
	// Instructed is the amount the payer instructed (AmtDtls/InstdAmt of
	// the TxDtls, else of the entry), set only when its currency differs
	// from the transaction's Currency: a payment converted by the banks.
	// An FX rule (Config.FX) letters items in InstructedCurrency with it.
	Instructed         Amount `json:"instructed,omitzero"`
	InstructedCurrency string `json:"instructed_currency,omitempty"`
	// ExchangeRate is the bank's CcyXchg/XchgRate as written, for
	// explanations only: the matcher never computes with it.
	ExchangeRate string `json:"exchange_rate,omitempty"`
}

// FX returns the transaction's conversion: zero (no instructed currency)
// when the banks did not convert it.
func (t *Transaction) FX() Conversion {
	if t.Conversion == nil {
		return Conversion{}
	}
	return *t.Conversion
}

// RemittedDocument is one document of a structured remittance with its
// amounts (one Strd block naming one document by RfrdDocInf/Nb or by its
// CdtrRefInf): what the payer says it pays on that document. Amounts are
// in Currency, the transaction's when the bank wrote them in it.
type RemittedDocument struct {
	Number    string `json:"number,omitempty"`    // RfrdDocInf/Nb
	Type      string `json:"type,omitempty"`      // RfrdDocInf/Tp code or proprietary: CINV, CREN, DEBN…
	Reference string `json:"reference,omitempty"` // the block's CdtrRefInf/Ref
	Currency  string `json:"currency,omitempty"`
	// Remitted is RmtdAmt and Due DuePyblAmt; nil when not given.
	Remitted *Amount `json:"remitted,omitempty"`
	Due      *Amount `json:"due,omitempty"`
	// Discount is DscntApldAmt (their total), CreditNote CdtNoteAmt and
	// Tax TaxAmt (their total); zero when not given.
	Discount   Amount `json:"discount,omitzero"`
	CreditNote Amount `json:"credit_note,omitzero"`
	Tax        Amount `json:"tax,omitzero"`
	// TaxType is the Tp code (or proprietary type) of the first TaxAmt:
	// VATB, WITH (withholding)…; empty when not given.
	TaxType string `json:"tax_type,omitempty"`
	// Adjustments are the AdjstmntAmtAndRsn elements.
	Adjustments []DocumentAdjustment `json:"adjustments,omitempty"`
}

// DocumentAdjustment is one AdjstmntAmtAndRsn of a remitted document.
type DocumentAdjustment struct {
	Amount Amount `json:"amount"`
	// Added is true when CdtDbtInd is CRDT: the adjustment adds to what is
	// paid; otherwise (DBIT or not given) it is deducted.
	Added  bool   `json:"added,omitempty"`
	Reason string `json:"reason,omitempty"` // Rsn
	Info   string `json:"info,omitempty"`   // AddtlInf
}

// IsCreditNote reports whether the document is a credit note the payer
// nets (type CREN, or a credit note amount without any other amount).
func (d *RemittedDocument) IsCreditNote() bool {
	t := strings.ToUpper(d.Type)
	return t == "CREN" || (d.Remitted == nil && d.Due == nil && d.CreditNote.Sign() > 0 && t != "CINV")
}

// Origin is the bank-side provenance of a transaction (see docs/FORMATS.md
// "Transaction identity").
type Origin struct {
	// BankRef is the bank reference the tx_ref was built from, without any
	// suffix; empty when the bank gave none that can serve as an identity
	// (absent, a placeholder such as NOTPROVIDED, NONREF or zeros, or the
	// entry's number in its statement: 000001 for the first entry, when a
	// bank numbers each statement's entries from 1).
	BankRef string `json:"bank_ref,omitempty"`
	// Message is camt.052, camt.053 or camt.054; CopyDuplicate the
	// statement's CpyDplctInd (COPY, CODU, DUPL).
	Message       string `json:"message,omitempty"`
	CopyDuplicate string `json:"copy_duplicate,omitempty"`
	// Document is the 1-based index of the document in its file: one
	// delivery for the identity rule.
	Document int `json:"document,omitempty"`
	// EntryAmount is the amount of the whole Ntry the transaction belongs to.
	EntryAmount Amount `json:"entry_amount,omitzero"`
	// Links are the entry's references that tie a batch entry to the
	// notification detailing it: Ntry/AcctSvcrRef, NtryRef, Btch/MsgId,
	// Btch/PmtInfId (placeholders and entry numbers left out).
	Links []string `json:"links,omitempty"`
	// Batch is Btch/NbOfTxs (summed) when the entry books a batch as one
	// amount without any TxDtls: its details are expected in another file.
	Batch int `json:"batch,omitempty"`
	// Details is the number of TxDtls the entry was split into when the
	// transaction is one of them (1 for an entry with a single TxDtls).
	Details int `json:"details,omitempty"`
	// Merged is the number of TxDtls merged into this one transaction when
	// none of them carried an amount (the cash cannot be split).
	Merged int `json:"merged,omitempty"`
}

// IsBatchEntry reports whether the transaction is a whole entry booking a
// batch as one amount (Btch/NbOfTxs > 1 without per-transaction amounts):
// the entry a camt.054 may detail.
func (t *Transaction) IsBatchEntry() bool {
	return t.Origin != nil && t.Origin.Details == 0 && (t.Origin.Batch > 1 || t.Origin.Merged > 1)
}

// AwaitsDetails reports whether the transaction is a batch entry with no
// TxDtls at all: nothing to letter until the details arrive.
func (t *Transaction) AwaitsDetails() bool {
	return t.IsBatchEntry() && t.Origin.Merged == 0
}

// IsBatchDetail reports whether the transaction is one of several details
// of one entry (or the detail of a batch): what may cover a batch entry
// booked elsewhere.
func (t *Transaction) IsBatchDetail() bool {
	return t.Origin != nil && (t.Origin.Details > 1 || (t.Origin.Details == 1 && t.Origin.Batch > 1))
}

// IsLetterable reports whether the transaction is a booked credit that is
// not a reversal: the only kind that can be allocated to open items.
func (t *Transaction) IsLetterable() bool {
	return t.Credit && !t.Reversal && (t.Status == "BOOK" || t.Status == "")
}

// OpenItem is an open receivable (invoice or credit note) in the ledger.
type OpenItem struct {
	ID               string    `json:"id"`
	CustomerID       string    `json:"customer_id"`
	CustomerName     string    `json:"customer_name"`
	DocumentNumber   string    `json:"document_number"`
	PaymentReference string    `json:"payment_reference,omitempty"`
	IBANs            []string  `json:"ibans,omitempty"` // normalised
	IssueDate        time.Time `json:"issue_date"`
	DueDate          time.Time `json:"due_date"`
	Currency         string    `json:"currency"`
	Amount           Amount    `json:"amount"`
	Residual         Amount    `json:"residual"` // still open; negative for a credit note
}

// Outcome is what happened to a transaction.
type Outcome string

const (
	// Auto: allocations are written back to the ledger.
	Auto Outcome = "auto"
	// Suggested: an exception with ranked candidates for an accountant.
	Suggested Outcome = "suggested"
	// Unmatched: an exception with no usable candidate.
	Unmatched Outcome = "unmatched"
	// Ignored: not a lettering matter (debit, not booked); counted only.
	Ignored Outcome = "ignored"
	// Unletter: a reversal or return of a payment that was lettered; the
	// pipeline reverses the earlier allocations.
	Unletter Outcome = "unletter"
)

// Allocation is cash from one transaction applied to one open item.
type Allocation struct {
	ItemID string `json:"item_id"`
	// Amount is the cash applied (negative for a credit note netted by the
	// payment). Never includes a write-off.
	Amount Amount `json:"amount"`
	// WriteOff closes a small difference (bank charges deducted by the payer)
	// within the configured tolerance; zero when none.
	WriteOff Amount `json:"writeoff"`
	// ItemAmount is, for a cross-currency allocation (an FX rule), what the
	// allocation settles in the item's currency ItemCurrency; Amount stays
	// the cash in the transaction's currency. Zero and empty for an
	// allocation in the transaction's currency.
	ItemAmount   Amount `json:"item_amount,omitzero"`
	ItemCurrency string `json:"item_currency,omitempty"`
}

// CrossCurrency reports whether the allocation settles an item in another
// currency than the cash (ItemAmount is then what it settles).
func (a Allocation) CrossCurrency() bool { return a.ItemCurrency != "" }

// Settles returns what the allocation takes off the item's residual, in
// the item's currency: ItemAmount for a cross-currency allocation, else
// the cash plus the write-off.
func (a Allocation) Settles() Amount {
	if a.CrossCurrency() {
		return a.ItemAmount
	}
	return a.Amount.Add(a.WriteOff)
}

// Candidate is a ranked open item proposed for an exception.
type Candidate struct {
	ItemID     string  `json:"item_id"`
	CustomerID string  `json:"customer_id"`
	Score      float64 `json:"score"` // in [0,1]
}

// Decision is the matcher's verdict on one transaction.
type Decision struct {
	TxKey   string  `json:"tx_key"`
	Outcome Outcome `json:"outcome"`
	Rule    string  `json:"rule,omitempty"`
	// Confidence is the calibrated chance that the decision is right: for
	// an automatic one, that its allocations are; for a suggestion, that
	// its first candidate is the item to letter. Two decimals, at most
	// 0.99; 0 for decisions that propose nothing (see calibration.go).
	Confidence  float64      `json:"confidence"`
	Explanation string       `json:"explanation"`
	Allocations []Allocation `json:"allocations,omitempty"`
	// Excess is cash received beyond what was allocated (an overpayment, or
	// a partial match); zero when everything was allocated.
	Excess     Amount      `json:"excess"`
	Candidates []Candidate `json:"candidates,omitempty"`
	// Reason is a short machine code for exceptions: no_candidate,
	// ambiguous_customers, amount_mismatch, overpayment, not_letterable…
	Reason string `json:"reason,omitempty"`
	// UnletterKey is, for an Unletter decision, the Key of the transaction
	// whose allocations are reversed.
	UnletterKey string `json:"unletter_key,omitempty"`
	// Postings are what an Auto decision books besides its allocations:
	// cash put on a customer's account (an accountant's resolution, or
	// the excess of an overpayment by Config.Overpayment), cash written
	// off (a resolution), or a cash discount the payer took closing an
	// item (Config.CashDiscounts; not cash).
	Postings []Posting `json:"postings,omitempty"`

	// Situation is the calibration bucket the decision was made in (see
	// the matcher's calibrationTable): it sets Confidence and whether payer
	// facts are learned. Set and read by the matcher within one Match
	// call; never serialised.
	Situation string `json:"-"`
}

// PostingKind says where cash that letters no open item is booked.
type PostingKind string

const (
	// OnAccount credits the customer's account with unapplied cash (a
	// payment on account, an advance): the customer's later invoices can
	// be settled from it in the ledger.
	OnAccount PostingKind = "on_account"
	// WriteOffPosting books the cash to the ledger's write-off account with
	// a reason code (a tiny unidentified receipt, a rounding, an
	// overpayment nobody will claim).
	WriteOffPosting PostingKind = "write_off"
	// CashDiscountPosting closes the part of an open item the payer
	// deducted as a cash discount (DscntApldAmt), booked to the discount
	// account of the matching policy (Config.CashDiscounts) with its
	// reason code. It is not cash: it settles ItemID without taking any of
	// the transaction's cash.
	CashDiscountPosting PostingKind = "cash_discount"
)

// IsCash reports whether a posting of this kind books cash of the
// transaction (on account, written off); a cash discount does not.
func (k PostingKind) IsCash() bool { return k != CashDiscountPosting }

// Posting is what a decision books without allocating cash to an open
// item. The cash amounts of a decision's allocations and postings (those
// whose kind IsCash) together never exceed the transaction's cash.
type Posting struct {
	Kind PostingKind `json:"kind"`
	// CustomerID is the customer credited (OnAccount) or whose item the
	// discount closes (CashDiscountPosting); empty for a write-off.
	CustomerID string `json:"customer_id,omitempty"`
	// ItemID is the open item a cash discount closes; empty for the other
	// kinds.
	ItemID string `json:"item_id,omitempty"`
	// Amount is what is posted, positive: the cash (with the sign of the
	// transaction's cash) or the discount.
	Amount Amount `json:"amount"`
	// Account is the ledger account of a cash discount (the policy's);
	// empty for the other kinds, whose accounts the ledger configures.
	Account string `json:"account,omitempty"`
	// Reason is the reason code (the accountant's for WriteOffPosting and
	// OnAccount; the policy's for CashDiscountPosting).
	Reason string `json:"reason,omitempty"`
}
