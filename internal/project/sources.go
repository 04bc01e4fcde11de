package project

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"slipway/internal/fetch"
)

// SourcesSection is the [sources] table: where the sources of specs that
// are not in the spec directory are downloaded from.
type SourcesSection struct {
	// URLs are base URLs of source servers, tried in order: a file is
	// fetched from <url>/<file name>, like Azure Linux's SOURCE_URL.
	// http, https or file.
	URLs []string `toml:"urls"`
	// AllowUpstream also tries the URL a spec gives for a Source, last.
	AllowUpstream bool `toml:"allow_upstream"`
	// CacheDir is the content-addressed source cache; "" means the user's
	// cache ($XDG_CACHE_HOME/slipway/sources), shared by all projects.
	CacheDir string `toml:"cache_dir"`
	// Auth is sent to the hosts of URLs, never to upstream URLs.
	Auth AuthSection `toml:"auth"`
}

// AuthSection holds credentials for a server. Each value is a literal,
// "env:NAME" (an environment variable) or "file:PATH" (a file's content);
// a plain client_cert, client_key or ca_cert is the path of a PEM file.
// Relative paths are relative to the project directory.
type AuthSection struct {
	Username   string `toml:"username"`    // basic auth, with password
	Password   string `toml:"password"`    // basic auth, with username
	Token      string `toml:"token"`       // bearer token, instead of basic auth
	ClientCert string `toml:"client_cert"` // TLS client certificate, with client_key
	ClientKey  string `toml:"client_key"`
	CACert     string `toml:"ca_cert"` // extra CA certificates to trust
}

// sources checks the [sources] table.
func (v *validator) sources(s SourcesSection) {
	seen := map[string]int{}
	for i, raw := range s.URLs {
		k := key("sources", "urls").at(i)
		if msg := checkSourceURL(raw); msg != "" {
			v.errorf(k, "%q %s", fetch.Redact(raw), msg)
			continue
		}
		if j, dup := seen[raw]; dup {
			v.errorf(k, "%q is listed twice (also urls[%d])", raw, j)
		}
		seen[raw] = i
	}
	v.path(key("sources", "cache_dir"), s.CacheDir)
	v.auth(key("sources", "auth"), s.Auth)
}

// checkSourceURL returns what is wrong with a source server URL, or "".
func checkSourceURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL, credentials included
		}
		return "is not a valid URL: " + err.Error()
	}
	switch {
	case raw == "":
		return "is empty"
	case u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "file":
		return "is not supported: use an http, https or file URL"
	case u.User != nil:
		return "has credentials in it: put them in [sources.auth], e.g. password = \"env:SOURCES_PASSWORD\""
	case u.Fragment != "" || u.RawFragment != "" || u.ForceQuery:
		return "must not end in '#...' or '?'"
	case u.Scheme == "file" && ((u.Host != "" && u.Host != "localhost") || u.Path == ""):
		return "must be file:///absolute/path"
	case u.Scheme != "file" && u.Host == "":
		return "has no host"
	}
	return ""
}

// auth checks an auth table whose keys are under prefix.
func (v *validator) auth(table ref, a AuthSection) {
	at := table.child
	for _, f := range []struct{ name, value string }{
		{"username", a.Username}, {"password", a.Password}, {"token", a.Token},
		{"client_cert", a.ClientCert}, {"client_key", a.ClientKey}, {"ca_cert", a.CACert},
	} {
		if err := fetch.CheckSecret(f.value); err != nil {
			v.errorf(at(f.name), "%v", err)
		}
		v.path(at(f.name), f.value)
	}
	basic := a.Username != "" || a.Password != ""
	switch {
	case a.Token != "" && basic:
		v.errorf(at("token"), "set either token or username and password, not both")
	case a.Username != "" && a.Password == "":
		v.errorf(at("username"), "needs a password, e.g. password = \"env:SOURCES_PASSWORD\"")
	case a.Password != "" && a.Username == "":
		v.errorf(at("password"), "needs a username")
	}
	switch {
	case a.ClientCert != "" && a.ClientKey == "":
		v.errorf(at("client_cert"), "needs client_key")
	case a.ClientKey != "" && a.ClientCert == "":
		v.errorf(at("client_key"), "needs client_cert")
	}
}

// String keeps secrets out of printed configs.
func (a AuthSection) String() string {
	return fmt.Sprintf("%v", fetch.Auth{Username: a.Username, Password: a.Password, Token: a.Token,
		ClientCert: a.ClientCert, ClientKey: a.ClientKey, CACert: a.CACert})
}

// FetchAuth turns an auth table ([sources.auth], [toolchain.auth]) into
// fetch.Auth, with its file paths made absolute.
func (p *Project) FetchAuth(a AuthSection) fetch.Auth {
	secret := func(v string) string {
		if rest, ok := strings.CutPrefix(v, "file:"); ok {
			return "file:" + p.Path(rest)
		}
		return v
	}
	pem := func(v string) string {
		if v == "" || strings.HasPrefix(v, "env:") || strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN") {
			return v
		}
		if rest, ok := strings.CutPrefix(v, "file:"); ok {
			return "file:" + p.Path(rest)
		}
		return p.Path(v)
	}
	return fetch.Auth{
		Username: secret(a.Username), Password: secret(a.Password), Token: secret(a.Token),
		ClientCert: pem(a.ClientCert), ClientKey: pem(a.ClientKey), CACert: pem(a.CACert),
	}
}
