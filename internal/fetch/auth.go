package fetch

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Auth is how to authenticate to a server. Every field may be given as a
// literal, as "env:NAME" (the value of an environment variable) or as
// "file:PATH" (the content of a file, without its trailing newline); see
// ResolveSecret. A plain value of ClientCert, ClientKey or CACert is a path
// to a PEM file, unless it is PEM text itself.
type Auth struct {
	Username, Password string // HTTP basic auth
	Token              string // HTTP bearer token; not together with basic auth
	ClientCert         string // TLS client certificate (PEM); needs ClientKey
	ClientKey          string // its private key (PEM)
	CACert             string // extra CA certificates (PEM) to trust besides the system's
}

// IsZero reports whether a sets nothing.
func (a Auth) IsZero() bool { return a == Auth{} }

// String describes what a sets, never a secret.
func (a Auth) String() string {
	var parts []string
	if a.Username != "" || a.Password != "" {
		parts = append(parts, "basic auth")
	}
	if a.Token != "" {
		parts = append(parts, "bearer token")
	}
	if a.ClientCert != "" || a.ClientKey != "" {
		parts = append(parts, "client certificate")
	}
	if a.CACert != "" {
		parts = append(parts, "extra CA")
	}
	if len(parts) == 0 {
		return "no auth"
	}
	return strings.Join(parts, ", ")
}

// GoString keeps secrets out of %#v.
func (a Auth) GoString() string { return "fetch.Auth{" + a.String() + "}" }

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CheckSecret checks the syntax of a secret reference without resolving
// it: "env:" must be followed by a variable name, "file:" by a path.
func CheckSecret(v string) error {
	switch {
	case strings.HasPrefix(v, "env:"):
		if name := v[len("env:"):]; !envNameRE.MatchString(name) {
			return fmt.Errorf("%q: env: must be followed by a variable name ([A-Za-z_][A-Za-z0-9_]*)", name)
		}
	case strings.HasPrefix(v, "file:"):
		p := v[len("file:"):]
		if p == "" {
			return errors.New("file: must be followed by a path")
		}
		if strings.IndexByte(p, 0) >= 0 {
			return errors.New("path after file: contains a NUL byte")
		}
	}
	return nil
}

// ResolveSecret returns the value v stands for: the environment variable
// NAME for "env:NAME", the content of PATH for "file:PATH" (without
// trailing CR/LF), else v itself. A missing or empty variable or an
// unreadable file is an error that names it (never its content).
func ResolveSecret(v string) (string, error) {
	if err := CheckSecret(v); err != nil {
		return "", err
	}
	switch {
	case strings.HasPrefix(v, "env:"):
		name := v[len("env:"):]
		val, ok := os.LookupEnv(name)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		if val == "" {
			return "", fmt.Errorf("environment variable %s is empty", name)
		}
		return val, nil
	case strings.HasPrefix(v, "file:"):
		data, err := os.ReadFile(v[len("file:"):])
		if err != nil {
			return "", fmt.Errorf("reading secret: %w", err)
		}
		s := strings.TrimRight(string(data), "\r\n")
		if s == "" {
			return "", fmt.Errorf("secret file %s is empty", v[len("file:"):])
		}
		return s, nil
	}
	return v, nil
}

// resolvePEM returns the PEM text a certificate field stands for.
func resolvePEM(v string) ([]byte, error) {
	if strings.HasPrefix(v, "env:") || strings.HasPrefix(v, "file:") {
		s, err := ResolveSecret(v)
		return []byte(s), err
	}
	if strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN") {
		return []byte(v), nil
	}
	data, err := os.ReadFile(v)
	if err != nil {
		return nil, fmt.Errorf("reading PEM file: %w", err)
	}
	return data, nil
}

// resolved is an Auth ready to use.
type resolved struct {
	header string      // Authorization header value; "" for none
	tls    *tls.Config // nil: the default
}

// resolve reads every secret of a and checks that they fit together.
func (a Auth) resolve() (resolved, error) {
	var r resolved
	field := func(name, v string) (string, error) {
		if v == "" {
			return "", nil
		}
		s, err := ResolveSecret(v)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		return s, nil
	}
	user, err := field("username", a.Username)
	if err != nil {
		return r, err
	}
	pass, err := field("password", a.Password)
	if err != nil {
		return r, err
	}
	token, err := field("token", a.Token)
	if err != nil {
		return r, err
	}
	switch {
	case token != "" && (user != "" || pass != ""):
		return r, errors.New("both a token and basic auth are set: use one of them")
	case token != "":
		r.header = "Bearer " + token
	case user != "" || pass != "":
		r.header = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	if a.ClientCert == "" && a.ClientKey == "" && a.CACert == "" {
		return r, nil
	}
	r.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	if (a.ClientCert == "") != (a.ClientKey == "") {
		return r, errors.New("client_cert and client_key must be set together")
	}
	if a.ClientCert != "" {
		certPEM, err := resolvePEM(a.ClientCert)
		if err != nil {
			return r, fmt.Errorf("client_cert: %w", err)
		}
		keyPEM, err := resolvePEM(a.ClientKey)
		if err != nil {
			return r, fmt.Errorf("client_key: %w", err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return r, fmt.Errorf("client_cert/client_key: %w", err)
		}
		r.tls.Certificates = []tls.Certificate{cert}
	}
	if a.CACert != "" {
		caPEM, err := resolvePEM(a.CACert)
		if err != nil {
			return r, fmt.Errorf("ca_cert: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(caPEM) {
			return r, errors.New("ca_cert: no PEM certificate found")
		}
		r.tls.RootCAs = pool
	}
	return r, nil
}
