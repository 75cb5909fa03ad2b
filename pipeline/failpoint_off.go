//go:build !failpoint

package pipeline

// FailpointsEnabled: without the failpoint build tag, failpoints are inert.
const FailpointsEnabled = false
