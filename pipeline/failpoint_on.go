//go:build failpoint

package pipeline

// FailpointsEnabled: this binary was built with the failpoint tag (the
// crash tests).
const FailpointsEnabled = true
