//go:build failpoint

package failpoint

// Enabled: this binary was built with the failpoint tag (crash tests).
const Enabled = true
