package rpmsig

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"slipway/internal/testutil"
)

// rpms builds the RPMs a (signed by key) and b (unsigned).
func rpms(t *testing.T, key *testutil.GPGKey) (a, b string) {
	t.Helper()
	testutil.RequireTools(t, "rpmkeys")
	body := "%install\nmkdir -p %{buildroot}/usr/share/x\nhead -c 4096 /dev/urandom > %{buildroot}/usr/share/x/data\n%files\n/usr/share/x\n"
	dir := testutil.RPMRepo(t, map[string]string{"a": body, "b": "%install\n%files\n"})
	a, b = filepath.Join(dir, "noarch", "a-1-1.noarch.rpm"), filepath.Join(dir, "noarch", "b-1-1.noarch.rpm")
	key.SignRPMs(t, a)
	return a, b
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	key, other := testutil.NewGPGKey(t), testutil.NewGPGKey(t)
	a, b := rpms(t, key)
	cache := t.TempDir()
	kr, err := NewKeyring(ctx, cache, []string{key.Public})
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.Verify(ctx, a); err != nil {
		t.Errorf("signed: %v", err)
	}
	var e *Error
	if err := kr.Verify(ctx, b); !errors.As(err, &e) || !e.Unsigned || !strings.Contains(err.Error(), "digests OK (the package carries no signature)") {
		t.Errorf("unsigned: %v", err)
	}

	// The same keys again: the same keyring, not imported again.
	again, err := NewKeyring(ctx, cache, []string{key.Public})
	if err != nil || again.ID() != kr.ID() || kr.ID() == "" {
		t.Errorf("again: %v, IDs %q %q", err, again.ID(), kr.ID())
	}
	if dirs, _ := filepath.Glob(filepath.Join(cache, "*")); len(dirs) != 1 {
		t.Errorf("cache holds %v", dirs)
	}

	// Another key: a signed package is refused, and rpmkeys says why.
	foreign, err := NewKeyring(ctx, cache, []string{other.Public})
	if err != nil {
		t.Fatal(err)
	}
	if err := foreign.Verify(ctx, a); !errors.As(err, &e) || e.Unsigned || !strings.Contains(err.Error(), "SIGNATURES NOT OK") || !strings.Contains(err.Error(), "NOKEY") {
		t.Errorf("other key: %v", err)
	}

	// No keys: digests only, so both pass, and a damaged file does not.
	none, err := NewKeyring(ctx, cache, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []*Keyring{none, nil} {
		if err := k.Verify(ctx, a); err != nil {
			t.Errorf("digests only, signed: %v", err)
		}
		if err := k.Verify(ctx, b); err != nil {
			t.Errorf("digests only, unsigned: %v", err)
		}
	}
	data, _ := os.ReadFile(a)
	data[len(data)-20] ^= 0xff
	damaged := filepath.Join(t.TempDir(), "a-1-1.noarch.rpm")
	os.WriteFile(damaged, data, 0o644)
	for _, k := range []*Keyring{none, kr} {
		if err := k.Verify(ctx, damaged); !errors.As(err, &e) || !strings.Contains(err.Error(), "DIGESTS") || !strings.Contains(err.Error(), "Payload SHA256 digest: BAD") {
			t.Errorf("damaged: %v", err)
		}
	}

	if _, err := NewKeyring(ctx, cache, []string{filepath.Join(cache, "missing.asc")}); err == nil || !strings.Contains(err.Error(), "missing.asc") {
		t.Errorf("missing key file: %v", err)
	}
	garbage := filepath.Join(t.TempDir(), "garbage.asc")
	os.WriteFile(garbage, []byte("not a key\n"), 0o644)
	if _, err := NewKeyring(ctx, cache, []string{garbage}); err == nil || !strings.Contains(err.Error(), "importing the GPG key "+garbage) {
		t.Errorf("not a key: %v", err)
	}
}

func TestVerifyDetached(t *testing.T) {
	testutil.RequireTools(t, "gpgv", "rpmkeys")
	ctx := context.Background()
	key, other := testutil.NewGPGKey(t), testutil.NewGPGKey(t)
	dir := t.TempDir()
	file, sig, foreign := filepath.Join(dir, "repomd.xml"), filepath.Join(dir, "repomd.xml.asc"), filepath.Join(dir, "other.asc")
	os.WriteFile(file, []byte("<repomd/>\n"), 0o644)
	key.SignDetached(t, file, sig)
	other.SignDetached(t, file, foreign)
	kr, err := NewKeyring(ctx, t.TempDir(), []string{key.Public})
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.VerifyDetached(ctx, []byte("<repomd/>\n"), sig); err != nil {
		t.Errorf("good signature: %v", err)
	}
	var e *Error
	if err := kr.VerifyDetached(ctx, []byte("<repomd>changed</repomd>\n"), sig); !errors.As(err, &e) || !strings.Contains(err.Error(), "BAD signature") {
		t.Errorf("other data: %v", err)
	}
	if err := kr.VerifyDetached(ctx, []byte("<repomd/>\n"), foreign); !errors.As(err, &e) || !strings.Contains(err.Error(), "No public key") {
		t.Errorf("other key: %v", err)
	}
	if err := (*Keyring)(nil).VerifyDetached(ctx, nil, sig); err == nil || !strings.Contains(err.Error(), "no GPG keys") {
		t.Errorf("no keys: %v", err)
	}
}
