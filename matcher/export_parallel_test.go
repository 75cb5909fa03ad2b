package matcher

// MatchWorkers runs Match on a given number of goroutines, gathering chunk
// transactions at a time, for the tests that compare it with one goroutine.
var MatchWorkers = match
