package fetch

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
)

// StatusError is an HTTP response that is not a success.
type StatusError struct {
	URL  string // redacted
	Code int
	// SentCredentials is whether the request carried credentials (for 401/403).
	SentCredentials bool
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("fetch %s: %d %s", e.URL, e.Code, http.StatusText(e.Code))
	switch {
	case e.Code != http.StatusUnauthorized && e.Code != http.StatusForbidden:
	case e.SentCredentials:
		msg += ": authentication failed: the server rejected the credentials; check the configured auth for this host"
	default:
		msg += ": authentication failed: the server wants credentials and none are configured for this host"
	}
	return msg
}

// retryable reports whether the status is worth another try.
func (e *StatusError) retryable() bool {
	return e.Code >= 500 || e.Code == http.StatusTooManyRequests || e.Code == http.StatusRequestTimeout
}

// DigestError is a download whose size or SHA-256 is not the expected one.
// The downloaded data has been deleted.
type DigestError struct {
	URL                string // redacted
	WantSHA256, SHA256 string // hex; SHA256 is "" when the size check failed first
	WantSize, Size     int64  // WantSize is 0 when only the hash was checked
}

func (e *DigestError) Error() string {
	if e.WantSize > 0 && e.Size != e.WantSize {
		return fmt.Sprintf("fetch %s: size mismatch: expected %d bytes, got %d", e.URL, e.WantSize, e.Size)
	}
	return fmt.Sprintf("fetch %s: sha256 mismatch: expected %s, got %s", e.URL, e.WantSHA256, e.SHA256)
}

// IsNotFound reports whether err says the file does not exist at its URL:
// HTTP 404 or 410, or a missing file:// path.
func IsNotFound(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code == http.StatusNotFound || se.Code == http.StatusGone
	}
	return errors.Is(err, fs.ErrNotExist)
}
