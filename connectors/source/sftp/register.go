package sftp

import "github.com/lettrage/lettrage/connectors"

// The source type sftp: statements from an SFTP server, configured by the
// block source.sftp (Config).
func init() {
	connectors.Register(connectors.Sources, "sftp",
		func(c *Config, o connectors.SourceOptions) (connectors.StatementSource, error) {
			return New(o.Name, *c)
		})
}
