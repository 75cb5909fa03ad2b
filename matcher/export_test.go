package matcher

// CheckInvariants and CheckShuffled expose the golden-test property checks
// to the external benchmark tests.
var (
	CheckInvariants = checkInvariants
	CheckShuffled   = checkShuffled
)
