package source

import (
	"fmt"
	"strings"
)

// MismatchError is a Source whose content does not match its signature.
type MismatchError struct {
	Signatures string // the signatures file
	File       string // the source file name
	Want, Got  string // SHA-256 in the signatures file, and of the content found
	From       string // the path or (redacted) URL the content came from
	Others     []error
}

func (e *MismatchError) Error() string {
	msg := fmt.Sprintf("%s: %s: sha256 mismatch: the signature is %s, but %s has %s; if the source changed on purpose, update the signatures",
		e.Signatures, e.File, e.Want, e.From, e.Got)
	return msg + joinTried(e.Others)
}

// MissingSignatureError is a Source with no entry in the signatures file.
type MissingSignatureError struct {
	Signatures string // the signatures file
	File       string // the source file name
	Spec       string // the spec's file name
	Got        string // SHA-256 of the file, when it was found; else ""
}

func (e *MissingSignatureError) Error() string {
	msg := fmt.Sprintf("%s: no signature for %s, a Source of %s", e.Signatures, e.File, e.Spec)
	if e.Got != "" {
		msg += fmt.Sprintf(" (its sha256 is %s)", e.Got)
	} else {
		msg += " (it is not downloaded without one)"
	}
	return msg + ": update the signatures to add it"
}

// NotFoundError is a Source found nowhere.
type NotFoundError struct {
	Spec, File string
	SpecDir    string  // where it was looked for first
	Cache      string  // the cache entry it would be; "" when its hash is unknown
	Tried      []error // one per URL tried
	Hint       string  // what to do
	Offline    bool    // no download was tried: the run is offline
}

func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("%s: source %s not found: not in %s, not in the source cache", e.Spec, e.File, e.SpecDir)
	if e.Cache != "" {
		msg += " (" + e.Cache + ")"
	}
	if len(e.Tried) == 0 && !e.Offline {
		msg += ", no URL to download it from"
	}
	return msg + "; " + e.Hint + joinTried(e.Tried)
}

// Unwrap gives the download errors.
func (e *NotFoundError) Unwrap() []error { return e.Tried }

func joinTried(errs []error) string {
	var b strings.Builder
	for _, err := range errs {
		b.WriteString("\n\ttried: ")
		b.WriteString(err.Error())
	}
	return b.String()
}
