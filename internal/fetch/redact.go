package fetch

import (
	"net/url"
	"regexp"
	"strings"
)

// redacted replaces what Redact hides.
const redacted = "REDACTED"

// sensitiveParam matches query parameters that carry credentials, such as
// Azure SAS signatures (sig), S3 presigned URLs (X-Amz-Signature,
// X-Amz-Credential) or access tokens.
var sensitiveParam = regexp.MustCompile(`(?i)sig|token|key|pass|secret|auth|credential|session`)

// userinfoRE finds the userinfo of a URL that does not parse.
var userinfoRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@`)

// Redact returns rawURL fit for errors and logs: userinfo (user and
// password) is replaced by REDACTED, and so are the values of query
// parameters that look like credentials.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		// Best effort for what does not parse: drop userinfo and query.
		s := userinfoRE.ReplaceAllString(rawURL, "${1}"+redacted+"@")
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			s = s[:i]
		}
		return s
	}
	if u.User != nil {
		u.User = url.User(redacted)
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k, vs := range q {
			if sensitiveParam.MatchString(k) {
				for i := range vs {
					vs[i] = redacted
				}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}
