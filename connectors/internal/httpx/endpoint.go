package httpx

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Endpoint is what every JSON-RPC ledger needs to log in: a server URL, a
// database, a user and a secret given inline or as a file.
type Endpoint struct {
	URL, Database, User string
	// SecretKey names the secret setting ("password", "api_key");
	// Secret and SecretFile are its inline and file forms.
	SecretKey, Secret, SecretFile string
	PageSize                      int
	Timeout                       time.Duration
}

// Validate reports every problem of e, each naming its YAML key.
func (e Endpoint) Validate() []error {
	var errs []error
	if e.URL == "" {
		errs = append(errs, errors.New("url: required"))
	} else if !strings.HasPrefix(e.URL, "http://") && !strings.HasPrefix(e.URL, "https://") {
		errs = append(errs, fmt.Errorf("url: %q is not an http(s) URL", e.URL))
	}
	if e.Database == "" {
		errs = append(errs, errors.New("database: required"))
	}
	if e.User == "" {
		errs = append(errs, errors.New("user: required"))
	}
	switch {
	case e.Secret == "" && e.SecretFile == "":
		errs = append(errs, fmt.Errorf("%s: required (or %s_file)", e.SecretKey, e.SecretKey))
	case e.Secret != "" && e.SecretFile != "":
		errs = append(errs, fmt.Errorf("%s_file: set either %s or %s_file, not both", e.SecretKey, e.SecretKey, e.SecretKey))
	}
	if e.PageSize < 0 {
		errs = append(errs, errors.New("page_size: must not be negative"))
	}
	if e.Timeout < 0 {
		errs = append(errs, errors.New("timeout: must not be negative"))
	}
	return errs
}
