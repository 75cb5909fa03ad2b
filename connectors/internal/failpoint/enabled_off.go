//go:build !failpoint

package failpoint

// Enabled: without the failpoint build tag, failpoints are inert.
const Enabled = false
