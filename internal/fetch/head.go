package fetch

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"
)

// ReadHead returns the first n bytes of rawURL (http, https or file), or
// all of it when it is shorter, asking an HTTP server for that range only
// (Range: bytes=0-<n-1>); from a server that sends the whole file, no more
// than n bytes are read. Transient failures are retried as Fetch retries
// them; HTTP errors are *StatusErrors, and errors name the URL redacted.
func (c *Client) ReadHead(ctx context.Context, rawURL string, n int64) ([]byte, error) {
	shown := Redact(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: malformed URL", shown)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("fetch %s: file URLs must name a local path (file:///path)", shown)
		}
		f, err := os.Open(u.Path)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", shown, err)
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, n))
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", shown, err)
		}
		return data, nil
	case "http", "https":
	default:
		return nil, fmt.Errorf("fetch %s: unsupported URL scheme %q: use http, https or file", shown, u.Scheme)
	}
	for attempt := 0; ; attempt++ {
		data, retry, wait, err := c.readHead(ctx, u, shown, n)
		if err == nil {
			return data, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("fetch %s: %w", shown, context.Cause(ctx))
		}
		if !retry || attempt >= c.opts.Retries {
			return nil, err
		}
		delay := c.backoff(attempt, wait)
		c.opts.Logger.Warn("download failed, retrying", "url", shown, "attempt", attempt+1, "in", delay, "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("fetch %s: %w", shown, context.Cause(ctx))
		case <-time.After(delay):
		}
	}
}

// readHead is one attempt of ReadHead.
func (c *Client) readHead(ctx context.Context, u *url.URL, shown string, n int64) (data []byte, retry bool, wait time.Duration, err error) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(c.opts.Timeout, func() { cancel(errStalled) })
	defer timer.Stop()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, false, 0, fmt.Errorf("fetch %s: malformed URL", shown)
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	req.Header.Set("Range", fmt.Sprintf("bytes=0-%d", n-1))
	resp, err := c.hc.Do(req)
	if err != nil {
		retry, err := c.transportError(actx, shown, err)
		return nil, retry, 0, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusPartialContent:
	case http.StatusRequestedRangeNotSatisfiable: // an empty file
		return nil, false, 0, nil
	default:
		e := &StatusError{URL: shown, Code: resp.StatusCode, SentCredentials: c.entry(resp.Request.URL.Host).header != ""}
		return nil, e.retryable(), retryAfter(resp.Header.Get("Retry-After")), e
	}
	body := &stallReader{r: resp.Body, timer: timer, timeout: c.opts.Timeout}
	data, err = io.ReadAll(io.LimitReader(body, n))
	if err != nil {
		retry, err := c.transportError(actx, shown, err)
		return nil, retry, 0, err
	}
	return data, false, 0, nil
}
