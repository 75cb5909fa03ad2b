package matcher

// Match decides every transaction of in. PLACEHOLDER: replaced by the engine.
func Match(in Input) Output {
	out := Output{Decisions: make([]Decision, len(in.Transactions))}
	for i, tx := range in.Transactions {
		d := Decision{TxKey: tx.Key, Outcome: Unmatched, Reason: "no_candidate", Explanation: "no rule matched"}
		if !tx.IsLetterable() {
			d.Outcome, d.Reason, d.Explanation = Ignored, "not_letterable", "not a booked credit"
		}
		out.Decisions[i] = d
	}
	return out
}
