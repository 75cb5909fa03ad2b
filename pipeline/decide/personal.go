package decide

import (
	"regexp"

	"github.com/lettrage/lettrage/domain"
)

// Personal data: what a record, a log line or a label may show of a payer.

// MaskIBAN keeps the country, check digits and last four characters:
// FR7630006000011234567890189 → FR76…0189. Used in logs and labels.
func MaskIBAN(s string) string {
	if len(s) <= 8 {
		return "…" + s[max(0, len(s)-2):]
	}
	return s[:4] + "…" + s[len(s)-4:]
}

// ibanLike finds IBAN-shaped tokens in free text (explanations).
var ibanLike = regexp.MustCompile(`\b[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}\b`)

// MaskIBANs masks every IBAN-shaped token of s.
func MaskIBANs(s string) string {
	return ibanLike.ReplaceAllStringFunc(s, MaskIBAN)
}

// RedactTx erases what identifies a person from a settled transaction.
func RedactTx(tx *domain.Transaction) {
	tx.Counterparty = domain.Party{}
	tx.Unstructured = nil
	tx.Additional = nil
}
