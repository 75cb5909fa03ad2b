package local

import "github.com/lettrage/lettrage/connectors"

// The source type local: statements from a local folder, configured by the
// block source.local (Config).
func init() {
	connectors.Register(connectors.Sources, "local",
		func(c *Config, o connectors.SourceOptions) (connectors.StatementSource, error) {
			return New(o.Name, *c)
		})
}
