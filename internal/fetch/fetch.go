// Package fetch downloads files over HTTP(S), and copies file:// URLs, into
// place atomically: transient failures are retried with backoff, an
// interrupted download is resumed with a Range request, the size and
// SHA-256 are verified before the file appears, and per-host credentials
// (basic auth, bearer token, TLS client certificate, extra CA) never show
// in errors or logs (see Redact).
package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Digest is what a downloaded file must match. Zero fields are not checked.
type Digest struct {
	SHA256 string // lowercase hex
	Size   int64  // bytes; checked when > 0
}

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Options configure a Client. The zero value is usable.
type Options struct {
	// Timeout bounds connecting, waiting for response headers, and any
	// stall while receiving a body (not the whole download). Default 30s.
	Timeout time.Duration
	// Retries is how often a transient failure (network error, HTTP 5xx,
	// 429 or 408) is retried: 0 means 3, a negative value none.
	Retries int
	// Backoff is the first delay before a retry, doubled for each further
	// retry up to 30s. Default 1s. A Retry-After header can lengthen it.
	Backoff time.Duration
	// UserAgent defaults to "slipway".
	UserAgent string
	// HostAuth holds credentials by host ("host:port" or "host"); Auth is
	// used for every host without an entry. Credentials go to a host only
	// as its own entry (or Auth) says, also after a redirect.
	HostAuth map[string]Auth
	Auth     Auth
	// Logger receives retries and resumes, with redacted URLs. Default: none.
	Logger *slog.Logger
}

// Client downloads files. It is safe for concurrent use.
type Client struct {
	opts Options
	hc   *http.Client
	base *http.Transport

	mu    sync.Mutex
	hosts map[string]*hostEntry // by auth key: "host:<h>" or "*"
}

type hostEntry struct {
	resolved
	transport http.RoundTripper
	err       error
}

// New returns a Client. Secrets are resolved when a host is first used, so
// a missing variable or file only matters for a host that is contacted.
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Retries == 0 {
		opts.Retries = 3
	} else if opts.Retries < 0 {
		opts.Retries = 0
	}
	if opts.Backoff <= 0 {
		opts.Backoff = time.Second
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "slipway"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.DialContext = (&net.Dialer{Timeout: opts.Timeout, KeepAlive: 30 * time.Second}).DialContext
	base.TLSHandshakeTimeout = opts.Timeout
	base.ResponseHeaderTimeout = opts.Timeout
	base.DisableCompression = true // the bytes on the server, never a decompressed variant
	c := &Client{opts: opts, base: base, hosts: map[string]*hostEntry{}}
	c.hc = &http.Client{Transport: roundTripper{c}, CheckRedirect: checkRedirect}
	return c
}

// checkRedirect follows up to 10 redirects, never from https to http.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return &permanentError{errors.New("stopped after 10 redirects")}
	}
	if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return &permanentError{fmt.Errorf("refusing a redirect from https to %s", req.URL.Scheme)}
	}
	return nil
}

// entry returns the resolved credentials and transport for a host.
func (c *Client) entry(host string) *hostEntry {
	key, auth := "*", c.opts.Auth
	for _, h := range []string{host, hostname(host)} {
		if a, ok := c.opts.HostAuth[h]; ok {
			key, auth = "host:"+h, a
			break
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.hosts[key]; ok {
		return e
	}
	e := &hostEntry{transport: c.base}
	e.resolved, e.err = auth.resolve()
	if e.err != nil {
		who := "credentials"
		if key != "*" {
			who = "credentials for " + key[len("host:"):]
		}
		e.err = &permanentError{fmt.Errorf("%s: %w", who, e.err)}
	} else if e.tls != nil {
		t := c.base.Clone()
		t.TLSClientConfig = e.tls
		e.transport = t
	}
	c.hosts[key] = e
	return e
}

func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// roundTripper adds each request's host's credentials and uses its TLS
// settings.
type roundTripper struct{ c *Client }

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	e := rt.c.entry(req.URL.Host)
	if e.err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, e.err
	}
	if e.header != "" {
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", e.header)
	}
	return e.transport.RoundTrip(req)
}

// Fetch downloads rawURL (http, https or file) to dest. The data goes to a
// file next to dest and is renamed into place only when complete and, if
// want sets them, of the right size and SHA-256; a mismatch deletes it and
// returns a *DigestError. When want.SHA256 is set and dest already has it,
// nothing is downloaded. HTTP errors are *StatusErrors. Errors name the
// URL redacted.
func (c *Client) Fetch(ctx context.Context, rawURL, dest string, want Digest) error {
	shown := Redact(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("fetch %s: malformed URL", shown) // err would repeat the URL unredacted
	}
	if want.SHA256 != "" && !sha256RE.MatchString(want.SHA256) {
		return fmt.Errorf("fetch %s: expected sha256 %q is not 64 lowercase hex digits", shown, want.SHA256)
	}
	switch u.Scheme {
	case "http", "https", "file":
	default:
		return fmt.Errorf("fetch %s: unsupported URL scheme %q: use http, https or file", shown, u.Scheme)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fmt.Errorf("fetch %s: %w", shown, err)
	}
	p, err := openPart(ctx, dest)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", shown, err)
	}
	if want.SHA256 != "" && hasDigest(dest, want) {
		p.discard() // another fetch finished it while we waited
		return nil
	}
	if u.Scheme == "file" {
		err = c.copyFile(u, p)
	} else {
		err = c.download(ctx, u, shown, p, want)
	}
	if err != nil {
		return err
	}
	if err := verify(p, shown, want); err != nil {
		return err
	}
	if err := p.commit(dest); err != nil {
		return fmt.Errorf("fetch %s: %w", shown, err)
	}
	return nil
}

// verify checks a complete part file against want, deleting it on a mismatch.
func verify(p *part, shown string, want Digest) error {
	if want.SHA256 == "" && want.Size <= 0 {
		return nil
	}
	sum, size, err := p.digest()
	if err != nil {
		p.discard()
		return fmt.Errorf("fetch %s: %w", shown, err)
	}
	if (want.Size > 0 && size != want.Size) || (want.SHA256 != "" && sum != want.SHA256) {
		p.discard()
		return &DigestError{URL: shown, WantSHA256: want.SHA256, SHA256: sum, WantSize: want.Size, Size: size}
	}
	return nil
}

// hasDigest reports whether path exists with the wanted content.
func hasDigest(path string, want Digest) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	p := &part{f: f}
	sum, size, err := p.digest()
	return err == nil && sum == want.SHA256 && (want.Size <= 0 || size == want.Size)
}

// copyFile copies a file:// URL into p.
func (c *Client) copyFile(u *url.URL, p *part) error {
	shown := Redact(u.String())
	if u.Host != "" && u.Host != "localhost" {
		p.discard()
		return fmt.Errorf("fetch %s: file URLs must name a local path (file:///path)", shown)
	}
	src, err := os.Open(u.Path)
	if err != nil {
		p.discard()
		return fmt.Errorf("fetch %s: %w", shown, err)
	}
	defer src.Close()
	if err := p.reset(); err != nil {
		p.discard()
		return fmt.Errorf("fetch %s: %w", shown, err)
	}
	if _, err := io.Copy(p.f, src); err != nil {
		p.discard()
		return fmt.Errorf("fetch %s: %w", shown, err)
	}
	return nil
}

// download fills p from an http(s) URL, retrying transient failures and
// resuming what an earlier attempt (or run) left in p.
func (c *Client) download(ctx context.Context, u *url.URL, shown string, p *part, want Digest) error {
	st := &attemptState{}
	off, err := p.size()
	if err != nil {
		p.discard()
		return fmt.Errorf("fetch %s: %w", shown, err)
	}
	// Data left by an earlier run is only trusted when the hash will tell
	// a bad splice; within this call If-Range guards against one.
	if off > 0 && want.SHA256 == "" {
		if err := p.reset(); err != nil {
			p.discard()
			return fmt.Errorf("fetch %s: %w", shown, err)
		}
	}
	st.earlier = off > 0 && want.SHA256 != ""
	for attempt := 0; ; attempt++ {
		retry, err := c.attempt(ctx, u, shown, p, want, st)
		if err == nil {
			if st.earlier && !hasPartDigest(p, want) {
				// The earlier run's data does not fit: start over once.
				c.opts.Logger.Warn("resumed download does not verify, downloading again", "url", shown)
				st.earlier = false
				if err := p.reset(); err != nil {
					p.discard()
					return fmt.Errorf("fetch %s: %w", shown, err)
				}
				attempt = -1
				continue
			}
			return nil
		}
		if ctx.Err() != nil {
			abandon(p, want)
			return fmt.Errorf("fetch %s: %w", shown, context.Cause(ctx))
		}
		if !retry || attempt >= c.opts.Retries {
			if retry {
				abandon(p, want) // transient: a later run may resume
			} else {
				p.discard()
			}
			if attempt > 0 {
				return fmt.Errorf("%w (after %d attempts)", err, attempt+1)
			}
			return err
		}
		delay := c.backoff(attempt, st.retryAfter)
		c.opts.Logger.Warn("download failed, retrying", "url", shown, "attempt", attempt+1, "in", delay, "err", err)
		select {
		case <-ctx.Done():
			abandon(p, want)
			return fmt.Errorf("fetch %s: %w", shown, context.Cause(ctx))
		case <-time.After(delay):
		}
	}
}

// abandon leaves an interrupted download for a later fetch to resume,
// which only one that knows the hash does.
func abandon(p *part, want Digest) {
	if want.SHA256 != "" {
		p.keep()
	} else {
		p.discard()
	}
}

// hasPartDigest reports whether p, as it is now, matches want.
func hasPartDigest(p *part, want Digest) bool {
	sum, size, err := p.digest()
	return err == nil && sum == want.SHA256 && (want.Size <= 0 || size == want.Size)
}

// attemptState carries what one attempt learns to the next.
type attemptState struct {
	validator  string        // strong ETag or Last-Modified of the first full response, for If-Range
	retryAfter time.Duration // from the last response's Retry-After
	earlier    bool          // p started with data of an earlier run
}

var errStalled = errors.New("stalled")

// attempt makes one request. retry reports whether the failure is transient.
func (c *Client) attempt(ctx context.Context, u *url.URL, shown string, p *part, want Digest, st *attemptState) (retry bool, err error) {
	st.retryAfter = 0
	off, err := p.appendFrom()
	if err != nil {
		return false, fmt.Errorf("fetch %s: %w", shown, err)
	}
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(c.opts.Timeout, func() { cancel(errStalled) })
	defer timer.Stop()

	req, err := http.NewRequestWithContext(actx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, fmt.Errorf("fetch %s: malformed URL", shown)
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", off))
		if st.validator != "" {
			req.Header.Set("If-Range", st.validator)
		}
		c.opts.Logger.Info("resuming download", "url", shown, "offset", off)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportError(actx, shown, err)
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusOK:
		if err := p.reset(); err != nil {
			return false, fmt.Errorf("fetch %s: %w", shown, err)
		}
		st.earlier = false // fresh data from the start
		if etag := resp.Header.Get("ETag"); etag != "" && !strings.HasPrefix(etag, "W/") {
			st.validator = etag
		} else {
			st.validator = resp.Header.Get("Last-Modified")
		}
	case resp.StatusCode == http.StatusPartialContent && off > 0:
		if start, ok := rangeStart(resp.Header.Get("Content-Range")); !ok || start != off {
			p.reset() // the next attempt asks for everything
			return true, fmt.Errorf("fetch %s: server answered a resume with the wrong range %q", shown, resp.Header.Get("Content-Range"))
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && off > 0:
		if total, ok := rangeTotal(resp.Header.Get("Content-Range")); ok && total == off {
			return false, nil // the earlier download was already complete
		}
		p.reset()
		return true, fmt.Errorf("fetch %s: server cannot resume at byte %d", shown, off)
	default:
		e := &StatusError{URL: shown, Code: resp.StatusCode, SentCredentials: c.entry(resp.Request.URL.Host).header != ""}
		st.retryAfter = retryAfter(resp.Header.Get("Retry-After"))
		return e.retryable(), e
	}

	var body io.Reader = &stallReader{r: resp.Body, timer: timer, timeout: c.opts.Timeout}
	if want.Size > 0 {
		body = io.LimitReader(body, want.Size-off+1) // a larger file fails the check without filling the disk
	}
	if _, err := io.Copy(fileWriter{p.f}, body); err != nil {
		var we *writeError
		if errors.As(err, &we) {
			return false, fmt.Errorf("fetch %s: writing %s: %w", shown, p.path, we.err)
		}
		return c.transportError(actx, shown, err)
	}
	return false, nil
}

// transportError describes a failed request or body read; most are
// transient.
func (c *Client) transportError(actx context.Context, shown string, err error) (bool, error) {
	if context.Cause(actx) == errStalled {
		return true, fmt.Errorf("fetch %s: no data for %s", shown, c.opts.Timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the URL
	}
	return !permanent(err), fmt.Errorf("fetch %s: %w", shown, err)
}

// permanent reports whether a request error is one no retry fixes: bad
// local credentials, a refused redirect, a host that does not exist, a
// certificate the client or the server does not accept.
func permanent(err error) bool {
	var (
		pe       *permanentError
		dnsErr   *net.DNSError
		verifErr *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &pe), errors.As(err, &verifErr):
		return true
	case errors.As(err, &dnsErr):
		return dnsErr.IsNotFound
	}
	// A TLS alert from the server (e.g. "certificate required") has no
	// exported type.
	return strings.Contains(err.Error(), "remote error: tls:")
}

// permanentError marks an error of the client's own making.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// backoff is the delay before retry number attempt+1.
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := c.opts.Backoff << min(attempt, 16)
	d = min(d, 30*time.Second)
	d += rand.N(d/4 + 1) // jitter, so parallel fetches do not retry in step
	return max(d, min(retryAfter, time.Minute))
}

// retryAfter reads a Retry-After header given in seconds.
func retryAfter(v string) time.Duration {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return 0
}

var contentRangeRE = regexp.MustCompile(`^bytes (?:(\d+)-\d+|\*)/(\d+|\*)$`)

// rangeStart reads the first byte of a 206 response's Content-Range.
func rangeStart(v string) (int64, bool) {
	m := contentRangeRE.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil || m[1] == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	return n, err == nil
}

// rangeTotal reads the complete length from a Content-Range.
func rangeTotal(v string) (int64, bool) {
	m := contentRangeRE.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil || m[2] == "*" {
		return 0, false
	}
	n, err := strconv.ParseInt(m[2], 10, 64)
	return n, err == nil
}

// stallReader restarts the stall timer on every read.
type stallReader struct {
	r       io.Reader
	timer   *time.Timer
	timeout time.Duration
}

func (s *stallReader) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	if n > 0 {
		s.timer.Reset(s.timeout)
	}
	return n, err
}

// writeError marks a failure to write the local file, which no retry fixes.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }

// fileWriter tells write errors from read errors in io.Copy.
type fileWriter struct{ f *os.File }

func (w fileWriter) Write(b []byte) (int, error) {
	n, err := w.f.Write(b)
	if err != nil {
		err = &writeError{err}
	}
	return n, err
}

// ForHosts is a Client that sends auth only to the hosts of urls (the
// servers configured for it), never to any other host.
func ForHosts(urls []string, auth Auth, logger *slog.Logger) *Client {
	o := Options{Logger: logger}
	if !auth.IsZero() {
		o.HostAuth = map[string]Auth{}
		for _, raw := range urls {
			if u, err := url.Parse(raw); err == nil && u.Host != "" {
				o.HostAuth[u.Host] = auth
			}
		}
	}
	return New(o)
}
