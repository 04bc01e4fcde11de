package repo

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"slipway/internal/fetch"
)

// RepoConfig is one section of a yum/dnf .repo file, with dnf's defaults
// for what the section does not set.
type RepoConfig struct {
	ID      string // the section name
	Name    string // defaults to ID
	Enabled bool   // default true

	// BaseURLs are mirrors of the same repository, tried in order.
	BaseURLs []string

	GPGCheck     bool     // packages must be signed by a gpgkey (see Repo.WithKeys)
	RepoGPGCheck bool     // repomd.xml must be signed by a gpgkey (repomd.xml.asc)
	GPGKeys      []string // paths, file:// or http(s):// URLs of public keys

	// TLS and basic auth, as fetch.Auth understands them (see Auth).
	ClientCert, ClientKey, CACert string
	Username, Password            string
	SSLVerify                     bool // default true; false is not honored: TLS is always verified

	Priority          int  // 1 (first) to 99 (default)
	SkipIfUnavailable bool // default false

	// Extra holds the keys slipway does not use (mirrorlist, metalink,
	// module_hotfixes, ...), by lowercase name.
	Extra map[string]string
}

// Auth is what fetch needs to reach the repository's servers.
func (c RepoConfig) Auth() fetch.Auth {
	return fetch.Auth{Username: c.Username, Password: c.Password,
		ClientCert: c.ClientCert, ClientKey: c.ClientKey, CACert: c.CACert}
}

// ParseRepoFile reads a .repo file. vars gives the values of $releasever,
// $basearch, $arch (and any other $name or ${name}) in values; a variable
// without a value is left as written. Errors name the file and line.
func ParseRepoFile(path string, vars map[string]string) ([]RepoConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadRepoFile(f, path, vars)
}

// ReadRepoFile is ParseRepoFile on a reader; name is used in errors.
//
// The format is dnf's INI dialect: "[id]" starts a section, "key=value"
// sets an option, a line starting with whitespace continues the previous
// value, and lines starting with '#' or ';' are comments.
func ReadRepoFile(r io.Reader, name string, vars map[string]string) ([]RepoConfig, error) {
	type option struct {
		key, value string
		line       int
	}
	type section struct {
		id   string
		line int
		opts []option
	}
	var sections []*section
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t\r")
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';':
			continue
		case line[0] == ' ' || line[0] == '\t':
			cur := last(sections)
			if cur == nil || len(cur.opts) == 0 {
				return nil, fmt.Errorf("%s:%d: continuation line %q follows no option", name, n, trimmed)
			}
			o := &cur.opts[len(cur.opts)-1]
			o.value += "\n" + trimmed
		case trimmed[0] == '[':
			if !strings.HasSuffix(trimmed, "]") {
				return nil, fmt.Errorf("%s:%d: section header %q lacks a closing ']'", name, n, trimmed)
			}
			id := strings.TrimSpace(trimmed[1 : len(trimmed)-1])
			if id == "" || strings.ContainsAny(id, " \t[]") {
				return nil, fmt.Errorf("%s:%d: bad repository id %q", name, n, id)
			}
			if first, dup := seen[id]; dup {
				return nil, fmt.Errorf("%s:%d: repository %q is already defined at line %d", name, n, id, first)
			}
			seen[id] = n
			sections = append(sections, &section{id: id, line: n})
		default:
			key, value, ok := strings.Cut(trimmed, "=")
			key = strings.ToLower(strings.TrimSpace(key))
			if !ok || key == "" {
				return nil, fmt.Errorf("%s:%d: expected key=value, got %q", name, n, trimmed)
			}
			cur := last(sections)
			if cur == nil {
				return nil, fmt.Errorf("%s:%d: option %q comes before any [repository] section", name, n, key)
			}
			cur.opts = append(cur.opts, option{key, strings.TrimSpace(value), n})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}

	out := make([]RepoConfig, 0, len(sections))
	for _, s := range sections {
		if s.id == "main" {
			continue // dnf.conf's global options, not a repository
		}
		c := RepoConfig{ID: s.id, Name: s.id, Enabled: true, SSLVerify: true, Priority: 99}
		for _, o := range s.opts {
			v := expandVars(o.value, vars)
			if err := c.set(o.key, v); err != nil {
				return nil, fmt.Errorf("%s:%d: [%s] %s: %w", name, o.line, s.id, o.key, err)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func last[T any](s []*T) *T {
	if len(s) == 0 {
		return nil
	}
	return s[len(s)-1]
}

// set applies one option.
func (c *RepoConfig) set(key, v string) error {
	var err error
	switch key {
	case "name":
		c.Name = strings.Join(strings.Fields(v), " ")
	case "baseurl":
		c.BaseURLs = splitList(v)
	case "gpgkey":
		c.GPGKeys = splitList(v)
	case "enabled":
		c.Enabled, err = parseBool(v)
	case "gpgcheck":
		c.GPGCheck, err = parseBool(v)
	case "repo_gpgcheck":
		c.RepoGPGCheck, err = parseBool(v)
	case "sslverify":
		c.SSLVerify, err = parseBool(v)
	case "skip_if_unavailable":
		c.SkipIfUnavailable, err = parseBool(v)
	case "sslclientcert":
		c.ClientCert = v
	case "sslclientkey":
		c.ClientKey = v
	case "sslcacert":
		c.CACert = v
	case "username":
		c.Username = v
	case "password":
		c.Password = v
	case "priority":
		c.Priority, err = strconv.Atoi(v)
		if err != nil || c.Priority < 1 || c.Priority > 99 {
			err = fmt.Errorf("%q is not a whole number from 1 to 99", v)
		}
	default:
		if c.Extra == nil {
			c.Extra = map[string]string{}
		}
		c.Extra[key] = v
	}
	return err
}

// splitList splits a list of URLs separated by whitespace or commas.
func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n'
	})
}

// parseBool reads dnf's booleans.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "yes", "true", "on":
		return true, nil
	case "0", "no", "false", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (use 1/0, yes/no, true/false or on/off)", v)
}

// expandVars replaces $name and ${name} for the names vars has.
func expandVars(s string, vars map[string]string) string {
	if len(vars) == 0 || !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		name, end := varAt(s[i:])
		if v, ok := vars[name]; ok && name != "" {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+end])
		}
		s = s[i+end:]
	}
}

// varAt reads the variable reference at the start of s ("$name" or
// "${name}") and returns its name and length (at least 1).
func varAt(s string) (name string, n int) {
	if len(s) > 1 && s[1] == '{' {
		if j := strings.IndexByte(s, '}'); j > 0 {
			return s[2:j], j + 1
		}
		return "", 1
	}
	n = 1
	for n < len(s) && (s[n] == '_' || '0' <= s[n] && s[n] <= '9' || 'a' <= s[n] && s[n] <= 'z' || 'A' <= s[n] && s[n] <= 'Z') {
		n++
	}
	return s[1:n], n
}
