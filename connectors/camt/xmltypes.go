package camt

// Private decoding targets. Tags carry no namespace so that every camt
// version (and prefixed documents) decode alike; where versions differ
// (Nm vs Pty/Nm, BIC vs BICFI, Sts vs Sts/Cd, Btch directly under Ntry in
// .01) both shapes are listed.

type xAmt struct {
	Ccy   string `xml:"Ccy,attr"`
	Value string `xml:",chardata"`
}

type xDate struct {
	Dt   string `xml:"Dt"`
	DtTm string `xml:"DtTm"`
}

type xCode struct {
	Text  string `xml:",chardata"`
	Cd    string `xml:"Cd"`
	Prtry string `xml:"Prtry"`
}

type xBkTxCd struct {
	Domn struct {
		Cd   string `xml:"Cd"`
		Fmly struct {
			Cd        string `xml:"Cd"`
			SubFmlyCd string `xml:"SubFmlyCd"`
		} `xml:"Fmly"`
	} `xml:"Domn"`
	Prtry struct {
		Cd   string `xml:"Cd"`
		Issr string `xml:"Issr"`
	} `xml:"Prtry"`
}

type xChrgType struct {
	Cd    string `xml:"Cd"`
	Prtry string `xml:"Prtry>Id"`
	Text  string `xml:",chardata"`
}

type xChrgRcrd struct {
	Amt         *xAmt     `xml:"Amt"`
	CdtDbtInd   string    `xml:"CdtDbtInd"`
	ChrgInclInd string    `xml:"ChrgInclInd"`
	Tp          xChrgType `xml:"Tp"`
}

type xChrgs struct {
	Ttl *xAmt `xml:"TtlChrgsAndTaxAmt"`
	// .02/.03: Chrgs repeats and holds one record itself.
	xChrgRcrd
	Rcrd []xChrgRcrd `xml:"Rcrd"`
}

type xCcyXchg struct {
	SrcCcy   string `xml:"SrcCcy"`
	TrgtCcy  string `xml:"TrgtCcy"`
	UnitCcy  string `xml:"UnitCcy"`
	XchgRate string `xml:"XchgRate"`
}

type xAmtAndXchg struct {
	Amt     *xAmt     `xml:"Amt"`
	CcyXchg *xCcyXchg `xml:"CcyXchg"`
}

type xAmtDtls struct {
	InstdAmt   *xAmtAndXchg `xml:"InstdAmt"`
	TxAmt      *xAmtAndXchg `xml:"TxAmt"`
	CntrValAmt *xAmtAndXchg `xml:"CntrValAmt"`
}

type xRefs struct {
	MsgID       string `xml:"MsgId"`
	AcctSvcrRef string `xml:"AcctSvcrRef"`
	PmtInfID    string `xml:"PmtInfId"`
	InstrID     string `xml:"InstrId"`
	EndToEndID  string `xml:"EndToEndId"`
	UETR        string `xml:"UETR"`
	TxID        string `xml:"TxId"`
	MndtID      string `xml:"MndtId"`
	ChqNb       string `xml:"ChqNb"`
	ClrSysRef   string `xml:"ClrSysRef"`
}

type xParty struct {
	Nm    string `xml:"Nm"`
	PtyNm string `xml:"Pty>Nm"`
}

type xAcctID struct {
	IBAN      string `xml:"Id>IBAN"`
	Othr      string `xml:"Id>Othr>Id"`
	PrtryAcct string `xml:"Id>PrtryAcct>Id"`
	BBAN      string `xml:"Id>BBAN"`
}

type xAgent struct {
	BIC   string `xml:"FinInstnId>BIC"`
	BICFI string `xml:"FinInstnId>BICFI"`
}

type xRltdPties struct {
	Dbtr      *xParty  `xml:"Dbtr"`
	DbtrAcct  *xAcctID `xml:"DbtrAcct"`
	UltmtDbtr *xParty  `xml:"UltmtDbtr"`
	Cdtr      *xParty  `xml:"Cdtr"`
	CdtrAcct  *xAcctID `xml:"CdtrAcct"`
	UltmtCdtr *xParty  `xml:"UltmtCdtr"`
}

type xRltdAgts struct {
	DbtrAgt *xAgent `xml:"DbtrAgt"`
	CdtrAgt *xAgent `xml:"CdtrAgt"`
}

type xCdOrPrtry struct {
	Cd    string `xml:"CdOrPrtry>Cd"`
	Prtry string `xml:"CdOrPrtry>Prtry"`
}

// xTypedAmt is a DscntApldAmt or TaxAmt of RfrdDocAmt, in both shapes:
// flat in .01/.02 (<TaxAmt Ccy="EUR">1.00</TaxAmt>: Ccy and Value), a
// type and an amount from .03 on (<TaxAmt><Tp><Cd>…</Cd></Tp><Amt
// Ccy="EUR">1.00</Amt></TaxAmt>: Tp and Amt).
type xTypedAmt struct {
	Ccy   string `xml:"Ccy,attr"`
	Value string `xml:",chardata"`
	Tp    struct {
		Cd    string `xml:"Cd"`
		Prtry string `xml:"Prtry"`
	} `xml:"Tp"`
	Amt *xAmt `xml:"Amt"`
}

// xAdjstmnt is an AdjstmntAmtAndRsn (DocumentAdjustment1).
type xAdjstmnt struct {
	Amt       *xAmt  `xml:"Amt"`
	CdtDbtInd string `xml:"CdtDbtInd"`
	Rsn       string `xml:"Rsn"`
	AddtlInf  string `xml:"AddtlInf"`
}

type xStrd struct {
	RfrdDocInf []struct {
		Tp     xCdOrPrtry `xml:"Tp"`
		Nb     string     `xml:"Nb"`
		RltdDt string     `xml:"RltdDt"`
	} `xml:"RfrdDocInf"`
	RfrdDocAmt *struct {
		DuePyblAmt        *xAmt       `xml:"DuePyblAmt"`
		DscntApldAmt      []xTypedAmt `xml:"DscntApldAmt"`
		CdtNoteAmt        *xAmt       `xml:"CdtNoteAmt"`
		TaxAmt            []xTypedAmt `xml:"TaxAmt"`
		AdjstmntAmtAndRsn []xAdjstmnt `xml:"AdjstmntAmtAndRsn"`
		RmtdAmt           *xAmt       `xml:"RmtdAmt"`
	} `xml:"RfrdDocAmt"`
	CdtrRefInf *struct {
		Tp struct {
			xCdOrPrtry
			Issr string `xml:"Issr"`
		} `xml:"Tp"`
		Ref string `xml:"Ref"`
	} `xml:"CdtrRefInf"`
	AddtlRmtInf []string `xml:"AddtlRmtInf"`
}

type xRmtInf struct {
	Ustrd []string `xml:"Ustrd"`
	Strd  []xStrd  `xml:"Strd"`
}

type xRtrInf struct {
	Rsn struct {
		Cd    string `xml:"Cd"`
		Prtry string `xml:"Prtry"`
	} `xml:"Rsn"`
	AddtlInf []string `xml:"AddtlInf"`
}

type xTxDtls struct {
	Refs       xRefs      `xml:"Refs"`
	Amt        *xAmt      `xml:"Amt"`
	CdtDbtInd  string     `xml:"CdtDbtInd"`
	AmtDtls    *xAmtDtls  `xml:"AmtDtls"`
	BkTxCd     *xBkTxCd   `xml:"BkTxCd"`
	Chrgs      []xChrgs   `xml:"Chrgs"`
	RltdPties  xRltdPties `xml:"RltdPties"`
	RltdAgts   xRltdAgts  `xml:"RltdAgts"`
	RmtInf     xRmtInf    `xml:"RmtInf"`
	RtrInf     *xRtrInf   `xml:"RtrInf"`
	AddtlTxInf []string   `xml:"AddtlTxInf"`
}

type xBtch struct {
	MsgID     string `xml:"MsgId"`
	PmtInfID  string `xml:"PmtInfId"`
	NbOfTxs   string `xml:"NbOfTxs"`
	TtlAmt    *xAmt  `xml:"TtlAmt"`
	CdtDbtInd string `xml:"CdtDbtInd"`
}

type xNtryDtls struct {
	Btch   *xBtch    `xml:"Btch"`
	TxDtls []xTxDtls `xml:"TxDtls"`
}

type xNtry struct {
	NtryRef      string      `xml:"NtryRef"`
	Amt          *xAmt       `xml:"Amt"`
	CdtDbtInd    string      `xml:"CdtDbtInd"`
	RvslInd      string      `xml:"RvslInd"`
	Sts          xCode       `xml:"Sts"`
	BookgDt      *xDate      `xml:"BookgDt"`
	ValDt        *xDate      `xml:"ValDt"`
	AcctSvcrRef  string      `xml:"AcctSvcrRef"`
	BkTxCd       xBkTxCd     `xml:"BkTxCd"`
	Chrgs        []xChrgs    `xml:"Chrgs"`
	AmtDtls      *xAmtDtls   `xml:"AmtDtls"`
	Btch         []xBtch     `xml:"Btch"`   // .01
	TxDtls       []xTxDtls   `xml:"TxDtls"` // .01
	NtryDtls     []xNtryDtls `xml:"NtryDtls"`
	AddtlNtryInf []string    `xml:"AddtlNtryInf"`
}

// Statement-level elements, decoded one child at a time.

type xGrpHdr struct {
	MsgID   string `xml:"MsgId"`
	CreDtTm string `xml:"CreDtTm"`
}

type xAcct struct {
	xAcctID
	Ccy       string `xml:"Ccy"`
	OwnrNm    string `xml:"Ownr>Nm"`
	SvcrBIC   string `xml:"Svcr>FinInstnId>BIC"`
	SvcrBICFI string `xml:"Svcr>FinInstnId>BICFI"`
}

type xBal struct {
	Tp struct {
		xCdOrPrtry
		Cd string `xml:"Cd"` // .01
	} `xml:"Tp"`
	Amt       *xAmt  `xml:"Amt"`
	CdtDbtInd string `xml:"CdtDbtInd"`
	Dt        xDate  `xml:"Dt"`
}

type xNbSum struct {
	NbOfNtries string `xml:"NbOfNtries"`
	Sum        string `xml:"Sum"`
	TtlNetNtry *struct {
		Amt       string `xml:"Amt"`
		CdtDbtInd string `xml:"CdtDbtInd"`
	} `xml:"TtlNetNtry"`
	// .02 older shape: TtlNetNtryAmt + CdtDbtInd
	TtlNetNtryAmt string `xml:"TtlNetNtryAmt"`
	CdtDbtInd     string `xml:"CdtDbtInd"`
}

type xTxsSummry struct {
	TtlNtries    *xNbSum `xml:"TtlNtries"`
	TtlCdtNtries *xNbSum `xml:"TtlCdtNtries"`
	TtlDbtNtries *xNbSum `xml:"TtlDbtNtries"`
}

type xFrToDt struct {
	FrDtTm string `xml:"FrDtTm"`
	ToDtTm string `xml:"ToDtTm"`
}
