package report

import (
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// Locale is the language of the accountants' views of the exceptions —
// exceptions.xlsx and exceptions-fr.csv: column titles, action and reason
// labels, the Guide sheet, number and date formats. exceptions.csv and
// matches.csv never change with it (the machine contract); the reader of
// resolutions accepts every locale's titles and action labels.
type Locale struct {
	Code string
	// Titles are the column titles by canonical column name.
	Titles map[string]string
	// Actions are the action labels by canonical action.
	Actions map[string]string
	// ActionHelp explains each canonical action (the Guide sheet).
	ActionHelp map[string]string
	// Reasons are the reason labels by reason code, and ReasonHelp what
	// each means and what to do.
	Reasons, ReasonHelp map[string]string
	// Sheet names.
	SheetSummary, SheetGuide, SheetSetAside string
	// SummaryTitles are the Summary sheet's column titles.
	SummaryTitles []string
	// Words used in cells.
	Due, Score, Left, Why, GuideTitle, GuideCode, GuideLabel, GuideMeaning string
	// DateLayout is the Go layout of dates in text; XLSXDate the
	// workbook's date format.
	DateLayout, XLSXDate string
	// Decimal is the decimal mark of amounts and scores written as text.
	Decimal string
}

// Locales are the supported locales by code.
var Locales = map[string]*Locale{"en": localeEN, "fr": localeFR}

// LocaleFor returns the locale of code, English when unknown.
func LocaleFor(code string) *Locale {
	if l, ok := Locales[code]; ok {
		return l
	}
	return localeEN
}

// reasonCodes are the reasons an exception may show, in the Guide's order.
var reasonCodes = []string{
	domain.ReasonNoCandidate, domain.ReasonUnknownPayer, domain.ReasonAmbiguousCustomers,
	domain.ReasonAmountMismatch, domain.ReasonOverpayment, domain.ReasonItemSettled,
	domain.ReasonSameAmount, domain.ReasonAmbiguousCombo, domain.ReasonCurrencyMismatch,
	domain.ReasonLowConfidence, domain.ReasonNotLetterable, domain.ReasonUnlettered, decide.ReasonLedgerRejected,
	decide.ReasonLedgerRejectedPartial, domain.ReasonReversalNotUndone, decide.ReasonPossibleDuplicate, decide.ReasonBatchNoDetails,
}

var localeEN = &Locale{
	Code: "en",
	Titles: map[string]string{
		"tx_ref": "tx_ref", "booking_date": "booking_date", "amount": "amount", "unallocated_amount": "unallocated_amount",
		"currency": "currency", "counterparty_name": "counterparty_name", "remittance": "remittance",
		"candidates": "candidates", ColAction: ColAction, ColItems: ColItems, ColCustomer: ColCustomer, ColComment: ColComment,
		"reason": "reason", "outcome": "outcome", "explanation": "explanation", "account_iban": "account_iban",
		"counterparty_iban": "counterparty_iban",
	},
	Actions: map[string]string{"accept": "accept", "letter": "letter", "on_account": "on_account",
		"write_off": "write_off", "ignore": "ignore", "unletter": "unletter"},
	ActionHelp: map[string]string{
		"accept":     "Letter the first candidate, as suggested.",
		"letter":     "Letter the items listed in items: ids or document numbers, each optionally with an amount (FA-2026-00137:100.00;OI-1040).",
		"on_account": "Put the cash on the account of the customer in customer (after lettering the items listed, if any).",
		"write_off":  "Write the cash off (a reason code in comment), or letter and close the items listed. Limited per currency.",
		"ignore":     "Not customer cash (a refund, an internal transfer…): set aside with a reason code in comment.",
		"unletter":   "Undo the letter of a lettered payment: it becomes an exception again.",
	},
	Reasons: map[string]string{},
	ReasonHelp: map[string]string{
		domain.ReasonNoCandidate:           "Nothing in the payment points to an open item: letter it by hand, put it on account, or ignore it.",
		domain.ReasonUnknownPayer:          "Nobody knows the payer; an amount that happens to fit is only suggested. Check the payer, then accept or letter.",
		domain.ReasonAmbiguousCustomers:    "The evidence points to several customers: choose the right one's items.",
		domain.ReasonAmountMismatch:        "The item is identified but the amount fits no combination of residuals within the tolerance: letter part of it, or write the difference off.",
		domain.ReasonOverpayment:           "Lettered, with cash left over: put the remainder on account, write it off, or letter it to other items.",
		domain.ReasonItemSettled:           "The item it names was settled meanwhile (by another payment): a double payment? Put it on account or refund.",
		domain.ReasonSameAmount:            "Several items of one customer fit and policy says suggest: choose which.",
		domain.ReasonAmbiguousCombo:        "Several combinations of items fit the amount: choose the items.",
		domain.ReasonCurrencyMismatch:      "The payment is in another currency than the items and the bank gave no instructed amount.",
		domain.ReasonLowConfidence:         "A candidate was found but not sure enough to letter automatically: accept it if right.",
		domain.ReasonNotLetterable:         "The payment cannot be lettered automatically (see the explanation).",
		domain.ReasonUnlettered:            "An accountant undid the letter: from now on it is only suggested.",
		decide.ReasonLedgerRejected:        "The ledger refused the letter; its message is in the explanation. Fix the cause, then resolve again.",
		decide.ReasonLedgerRejectedPartial: "The ledger refused part of the letter; its message is in the explanation.",
		domain.ReasonReversalNotUndone:     "The bank reversed a lettered payment and the ledger cannot undo letters: undo it in the ERP.",
		decide.ReasonPossibleDuplicate:     "Same bank reference, account, amount and date as another transaction but different details: check it is not one payment delivered twice.",
		decide.ReasonBatchNoDetails:        "A batch booked as one amount whose details (camt.054) never came: letter it by hand or wait for the details.",
	},
	SheetSummary: SheetSummary, SheetGuide: "Guide", SheetSetAside: "Set aside",
	SummaryTitles: []string{"account", "account_iban", "currency", "transactions", "unmatched_cash", "oldest_booking_date"},
	Due:           "due", Score: "score", Left: "open", Why: "Why: ",
	GuideTitle: "How to resolve an exception: choose an action in the action column, fill in items, customer or comment as it says, save, and drop the workbook in the inbox (or run lettrage resolve).",
	GuideCode:  "code", GuideLabel: "label", GuideMeaning: "meaning / what to do",
	DateLayout: "2006-01-02", XLSXDate: "yyyy-mm-dd", Decimal: ".",
}

var localeFR = &Locale{
	Code: "fr",
	Titles: map[string]string{
		"tx_ref": "Réf. opération", "booking_date": "Date comptable", "amount": "Montant", "unallocated_amount": "Reste à affecter",
		"currency": "Devise", "counterparty_name": "Payeur", "remittance": "Libellé / références",
		"candidates": "Pièces proposées", ColAction: "Action", ColItems: "Pièces", ColCustomer: "Client", ColComment: "Commentaire",
		"reason": "Motif", "outcome": "Statut", "explanation": "Explication", "account_iban": "IBAN du compte",
		"counterparty_iban": "IBAN du payeur",
	},
	Actions: map[string]string{"accept": "accepter", "letter": "lettrer", "on_account": "sur compte",
		"write_off": "passer en perte", "ignore": "ignorer", "unletter": "délettrer"},
	ActionHelp: map[string]string{
		"accept":     "Lettrer avec la première pièce proposée.",
		"letter":     "Lettrer avec les pièces de la colonne Pièces : numéros de pièce ou identifiants, chacun avec un montant si besoin (FA-2026-00137:100,00;OI-1040).",
		"on_account": "Mettre l'encaissement sur le compte du client de la colonne Client (après avoir lettré les pièces indiquées, s'il y en a).",
		"write_off":  "Passer l'encaissement en perte (un code motif en commentaire), ou lettrer et solder les pièces indiquées. Plafonné par devise.",
		"ignore":     "Ce n'est pas un règlement client (remboursement, virement interne…) : mis de côté, avec un code motif en commentaire.",
		"unletter":   "Défaire le lettrage d'un règlement lettré : il redevient une exception.",
	},
	Reasons: map[string]string{
		domain.ReasonNoCandidate: "aucune pièce", domain.ReasonUnknownPayer: "payeur inconnu",
		domain.ReasonAmbiguousCustomers: "plusieurs clients possibles", domain.ReasonAmountMismatch: "montant différent",
		domain.ReasonOverpayment: "trop-perçu", domain.ReasonItemSettled: "pièce déjà soldée",
		domain.ReasonSameAmount: "montants identiques", domain.ReasonAmbiguousCombo: "plusieurs combinaisons",
		domain.ReasonCurrencyMismatch: "autre devise", domain.ReasonLowConfidence: "confiance faible",
		domain.ReasonNotLetterable: "non lettrable", domain.ReasonUnlettered: "délettré",
		decide.ReasonLedgerRejected: "refusé par la comptabilité", decide.ReasonLedgerRejectedPartial: "refusé en partie par la comptabilité",
		domain.ReasonReversalNotUndone: "retour bancaire non défait", decide.ReasonPossibleDuplicate: "doublon possible",
		decide.ReasonBatchNoDetails: "remise sans détail",
	},
	ReasonHelp: map[string]string{
		domain.ReasonNoCandidate:           "Rien dans le règlement ne désigne une pièce ouverte : lettrez à la main, mettez sur compte ou ignorez.",
		domain.ReasonUnknownPayer:          "Le payeur est inconnu ; un montant qui tombe juste n'est que proposé. Vérifiez le payeur, puis acceptez ou lettrez.",
		domain.ReasonAmbiguousCustomers:    "Les indices désignent plusieurs clients : choisissez les pièces du bon client.",
		domain.ReasonAmountMismatch:        "La pièce est identifiée mais le montant ne correspond à aucune combinaison de soldes dans la tolérance : lettrez partiellement ou passez l'écart en perte.",
		domain.ReasonOverpayment:           "Lettré, avec un reste : mettez-le sur compte, passez-le en perte ou lettrez-le avec d'autres pièces.",
		domain.ReasonItemSettled:           "La pièce citée a été soldée entre-temps (par un autre règlement) : double paiement ? Mettez sur compte ou remboursez.",
		domain.ReasonSameAmount:            "Plusieurs pièces du même client correspondent et la règle demande de proposer : choisissez laquelle.",
		domain.ReasonAmbiguousCombo:        "Plusieurs combinaisons de pièces font le montant : choisissez les pièces.",
		domain.ReasonCurrencyMismatch:      "Le règlement est dans une autre devise que les pièces et la banque ne donne pas le montant d'origine.",
		domain.ReasonLowConfidence:         "Une pièce a été trouvée, mais pas assez sûrement pour lettrer seul : acceptez si c'est la bonne.",
		domain.ReasonNotLetterable:         "Le règlement ne peut pas être lettré automatiquement (voir l'explication).",
		domain.ReasonUnlettered:            "Un comptable a défait le lettrage : le règlement n'est plus que proposé.",
		decide.ReasonLedgerRejected:        "La comptabilité a refusé le lettrage ; son message est dans l'explication. Corrigez la cause puis résolvez à nouveau.",
		decide.ReasonLedgerRejectedPartial: "La comptabilité a refusé une partie du lettrage ; son message est dans l'explication.",
		domain.ReasonReversalNotUndone:     "La banque a rejeté un règlement lettré et la comptabilité ne sait pas délettrer : défaites-le dans l'ERP.",
		decide.ReasonPossibleDuplicate:     "Même référence bancaire, compte, montant et date qu'une autre opération mais des détails différents : vérifiez qu'il ne s'agit pas d'un même règlement reçu deux fois.",
		decide.ReasonBatchNoDetails:        "Une remise comptabilisée en un seul montant dont le détail (camt.054) n'est jamais arrivé : lettrez à la main ou attendez le détail.",
	},
	SheetSummary: "Synthèse", SheetGuide: "Légende", SheetSetAside: "Mis de côté",
	SummaryTitles: []string{"Compte", "IBAN du compte", "Devise", "Opérations", "Encaissements non lettrés", "Plus ancienne date comptable"},
	Due:           "échéance", Score: "score", Left: "reste", Why: "Pourquoi : ",
	GuideTitle: "Pour résoudre une exception : choisissez une action dans la colonne Action, remplissez Pièces, Client ou Commentaire selon l'action, enregistrez, puis déposez le classeur dans la boîte de dépôt (ou lancez lettrage resolve).",
	GuideCode:  "code", GuideLabel: "libellé", GuideMeaning: "signification / que faire",
	DateLayout: "02/01/2006", XLSXDate: "dd/mm/yyyy", Decimal: ",",
}

func init() {
	for _, c := range reasonCodes {
		if _, ok := localeEN.Reasons[c]; !ok {
			localeEN.Reasons[c] = c
		}
	}
	localeEN.Reasons[""] = ""
	localeFR.Reasons[""] = ""
}

// Reason is the label of a reason code (the code itself when unknown).
func (l *Locale) Reason(code string) string {
	if r, ok := l.Reasons[code]; ok {
		return r
	}
	return code
}

// Amount writes an amount as text with the locale's decimal mark.
func (l *Locale) Amount(a domain.Amount, ccy string) string {
	s := a.StringFixed(domain.CurrencyDigits(ccy))
	if a.Scale() > domain.CurrencyDigits(ccy) {
		s = a.String()
	}
	return strings.Replace(s, ".", l.Decimal, 1)
}

// Date writes a date, "" for the zero time.
func (l *Locale) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(l.DateLayout)
}

// foldKey is how titles and action labels are compared on input: lower
// case, accents dropped, spaces, dots, underscores and dashes removed.
func foldKey(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, _ := transform.String(t, strings.ToLower(strings.TrimSpace(s)))
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u00a0', '_', '-', '.', '\'', '’':
			return -1
		}
		return r
	}, out)
}

// inputTitles maps every locale's column title (folded) to its canonical
// column; inputActions every locale's action label to its action.
var inputTitles, inputActions = func() (map[string]string, map[string]string) {
	titles, actions := map[string]string{}, map[string]string{}
	for _, l := range []*Locale{localeEN, localeFR} {
		for k, v := range l.Titles {
			titles[foldKey(v)] = k
			titles[foldKey(k)] = k
		}
		for k, v := range l.Actions {
			actions[foldKey(v)] = k
			actions[foldKey(k)] = k
		}
	}
	// Common synonyms typed by hand.
	for k, v := range map[string]string{"perte": "write_off", "surcompte": "on_account", "accepte": "accept",
		"lettre": "letter", "ignore": "ignore", "delettre": "unletter", "acompte": "on_account"} {
		actions[k] = v
	}
	return titles, actions
}()

// canonicalAction maps an action as typed (any locale's label, any case,
// with or without accents) to its canonical name; unknown text is
// returned folded, for the refusal to quote.
func canonicalAction(s string) string {
	if s == "" {
		return ""
	}
	if a, ok := inputActions[foldKey(s)]; ok {
		return a
	}
	return strings.ToLower(strings.TrimSpace(s))
}
