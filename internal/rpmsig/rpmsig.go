// Package rpmsig checks files against a set of GPG public keys with the
// host's tools: RPMs with rpmkeys --checksig, detached signatures (a
// repository's repomd.xml.asc) with gpgv. The keys are imported once per
// set into a keyring directory of their own under a cache directory;
// nothing touches the host's rpm database or GnuPG home.
package rpmsig

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"slipway/internal/fsutil"
)

// Keyring is a set of public keys, imported. A nil Keyring, or one made
// from no keys, checks RPM digests only. It is safe for concurrent use.
type Keyring struct {
	dir  string   // cacheDir/keyring-<ID>: rpmdb/ and, once needed, keys.gpg
	keys []string // the key files it was made from
	data [][]byte // their content, as hashed into ID
}

// NewKeyring imports the public key files keys (armored or binary) into
// the rpm database dir/keyring-<ID>/rpmdb, made once per set of keys (by
// content) and complete or absent. With no keys it returns a Keyring that
// checks digests only, and touches nothing. Errors name the key file.
func NewKeyring(ctx context.Context, dir string, keys []string) (*Keyring, error) {
	if len(keys) == 0 {
		return &Keyring{}, nil
	}
	kr := &Keyring{keys: keys}
	h := sha256.New()
	fmt.Fprintln(h, "rpmsig keyring v1")
	for _, k := range keys {
		data, err := os.ReadFile(k)
		if err != nil {
			return nil, fmt.Errorf("reading the GPG key %s: %w", k, err)
		}
		fmt.Fprintf(h, "%d\n", len(data))
		h.Write(data)
		kr.data = append(kr.data, data)
	}
	kr.dir = filepath.Join(dir, "keyring-"+hex.EncodeToString(h.Sum(nil))[:16])
	err := fsutil.MakeDirOnce(kr.dir, func(tmp string) error {
		db := filepath.Join(tmp, "rpmdb")
		if err := os.Mkdir(db, 0o755); err != nil {
			return err
		}
		for i, k := range keys {
			file := filepath.Join(tmp, "import.asc") // the very bytes hashed into ID
			if err := os.WriteFile(file, kr.data[i], 0o644); err != nil {
				return err
			}
			out, err := exec.CommandContext(ctx, "rpmkeys", "--dbpath", db, "--import", file).CombinedOutput()
			if err != nil {
				msg := strings.ReplaceAll(strings.TrimSpace(string(out)), file, k)
				return fmt.Errorf("importing the GPG key %s: %v: %s", k, err, msg)
			}
		}
		return os.Remove(filepath.Join(tmp, "import.asc"))
	})
	if err != nil {
		return nil, err
	}
	return kr, nil
}

// ID names the set of keys (a hash of their content); "" for no keys.
func (k *Keyring) ID() string {
	if k == nil || k.dir == "" {
		return ""
	}
	return strings.TrimPrefix(filepath.Base(k.dir), "keyring-")
}

// Error is a file that failed the check: corrupted, unsigned, or not
// signed by one of the keys.
type Error struct {
	File     string
	Output   string // what the tool said, its verdict first: "rpmkeys: digests SIGNATURES NOT OK (...)"
	Unsigned bool   // the digests are fine but the RPM carries no signature
}

func (e *Error) Error() string {
	if e.Unsigned {
		return e.Output + " (the package carries no signature)"
	}
	return e.Output
}

// Verify checks an RPM with rpmkeys --checksig: its digests must verify,
// and with keys, a signature by one of them too. A file that fails is an
// *Error holding rpmkeys' words; other errors are failures to check.
func (k *Keyring) Verify(ctx context.Context, rpmPath string) error {
	signed := k != nil && k.dir != ""
	args := []string{"--checksig", "--nosignature"}
	if signed {
		args = []string{"--checksig", "--dbpath", filepath.Join(k.dir, "rpmdb")}
	}
	out, err := exec.CommandContext(ctx, "rpmkeys", append(args, rpmPath)...).CombinedOutput()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return fmt.Errorf("running rpmkeys on %s: %w", rpmPath, err)
	}
	text := strings.TrimPrefix(strings.TrimSpace(string(out)), rpmPath+": ")
	// rpmkeys says "digests OK" of an unsigned file, and exits 0.
	unsigned := signed && err == nil && !strings.Contains(text, "signatures OK")
	if err == nil && !unsigned && !strings.Contains(text, "NOT OK") && !strings.Contains(text, "NOKEY") {
		return nil
	}
	return &Error{File: rpmPath, Output: "rpmkeys: " + text + details(ctx, args, rpmPath), Unsigned: unsigned}
}

// details runs rpmkeys again, verbosely, for what failed: the lines that
// are not OK, e.g. "Header V4 RSA/SHA512 Signature, key ID ace79298: NOKEY".
func details(ctx context.Context, args []string, rpmPath string) string {
	out, _ := exec.CommandContext(ctx, "rpmkeys", append(append(args, "-v"), rpmPath)...).CombinedOutput()
	var bad []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasSuffix(l, ":") || strings.HasSuffix(l, ": OK") || strings.HasSuffix(l, ": NOTFOUND") {
			continue
		}
		bad = append(bad, l)
	}
	if len(bad) == 0 {
		return ""
	}
	return " (" + strings.Join(bad, "; ") + ")"
}

// VerifyDetached checks that sigFile (armored or binary) holds a valid
// signature of data by one of the keys, with gpgv. The keys are turned
// into a gpgv keyring (gpg --dearmor) on first use. A bad, foreign or
// missing signature is an *Error holding gpgv's words.
func (k *Keyring) VerifyDetached(ctx context.Context, data []byte, sigFile string) error {
	if k == nil || k.dir == "" {
		return errors.New("no GPG keys to check the signature " + sigFile + " with")
	}
	ring, err := k.gpgvKeyring(ctx)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "gpgv", "--homedir", k.dir, "--keyring", ring, sigFile, "-")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return &Error{File: sigFile, Output: "gpgv: " + oneLine(out)}
	}
	if err != nil {
		return fmt.Errorf("running gpgv on %s: %w", sigFile, err)
	}
	return nil
}

// gpgvKeyring returns the keyring file gpgv reads: the binary packets of
// the keys as NewKeyring read them, concatenated. It is written once,
// atomically.
func (k *Keyring) gpgvKeyring(ctx context.Context) (string, error) {
	ring := filepath.Join(k.dir, "keys.gpg")
	if _, err := os.Stat(ring); err == nil {
		return ring, nil
	}
	var all []byte
	for i, data := range k.data {
		// --dearmor decodes every armored block, and copies binary keys as they are.
		cmd := exec.CommandContext(ctx, "gpg", "--batch", "--homedir", k.dir, "--dearmor")
		cmd.Stdin = bytes.NewReader(data)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("gpg --dearmor %s: %v: %s", k.keys[i], err, strings.TrimSpace(stderr.String()))
		}
		all = append(all, out...)
	}
	return ring, fsutil.WriteFileAtomic(ring, all, 0o644)
}

// oneLine joins gpgv's output lines with "; ", without its "gpgv:"
// prefixes and runs of spaces.
func oneLine(out []byte) string {
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.Join(strings.Fields(strings.TrimPrefix(l, "gpgv:")), " "); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}
