package s3

import "github.com/lettrage/lettrage/connectors"

// The source type s3: statements from an S3 bucket, configured by the
// block source.s3 (Config).
func init() {
	connectors.Register(connectors.Sources, "s3",
		func(c *Config, o connectors.SourceOptions) (connectors.StatementSource, error) {
			return New(o.Name, *c)
		})
}
