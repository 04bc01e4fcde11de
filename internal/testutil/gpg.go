package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// GPGKey is a throwaway signing key in a GnuPG home of its own, so a test
// can hold several.
type GPGKey struct {
	Public string // the armored public key file
	Email  string // its user ID
	home   string
}

var gpgKeys atomic.Int64

// NewGPGKey makes an RSA key without a passphrase. Its gpg-agent is
// stopped and its home removed when the test ends.
func NewGPGKey(t testing.TB) *GPGKey {
	t.Helper()
	RequireTools(t, "gpg", "gpgconf")
	// gpg-agent's socket path must be short: not under a long t.TempDir.
	home, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run()
		os.RemoveAll(home)
	})
	k := &GPGKey{home: home, Email: fmt.Sprintf("test%d@example.invalid", gpgKeys.Add(1))}
	params := filepath.Join(home, "params")
	os.WriteFile(params, []byte("%no-protection\nKey-Type: RSA\nKey-Length: 2048\nName-Real: Slipway Test\nName-Email: "+
		k.Email+"\nExpire-Date: 0\n%commit\n"), 0o600)
	k.gpg(t, "--gen-key", params)
	k.Public = filepath.Join(t.TempDir(), "RPM-GPG-KEY-test")
	k.gpg(t, "--armor", "--output", k.Public, "--export", k.Email)
	return k
}

func (k *GPGKey) gpg(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command("gpg", append([]string{"--batch", "--yes", "--homedir", k.home}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("gpg %v: %v\n%s", args, err, out)
	}
}

// SignRPMs signs RPM files in place with rpmsign --addsign.
func (k *GPGKey) SignRPMs(t testing.TB, rpms ...string) {
	t.Helper()
	RequireTools(t, "rpmsign")
	gpg, _ := exec.LookPath("gpg") // Debian's rpmsign needs it named
	args := []string{"--addsign", "--define", "_gpg_name " + k.Email, "--define", "__gpg " + gpg, "--define", "_gpg_path " + k.home}
	if out, err := exec.Command("rpmsign", append(args, rpms...)...).CombinedOutput(); err != nil {
		t.Fatalf("rpmsign %v: %v\n%s", rpms, err, out)
	}
}

// SignDetached writes an armored detached signature of file to sig
// (e.g. repodata/repomd.xml.asc).
func (k *GPGKey) SignDetached(t testing.TB, file, sig string) {
	t.Helper()
	k.gpg(t, "--local-user", k.Email, "--armor", "--detach-sign", "--output", sig, file)
}
