package compose

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"slipway/internal/image"
)

// table is a colon-separated account file (/etc/passwd, /etc/group,
// /etc/shadow), kept in order.
type table struct {
	path  string // in the image
	lines [][]string
}

func readTable(root, path string) (*table, error) {
	data, err := readFileIn(root, path)
	if err != nil {
		return nil, err
	}
	t := &table{path: path}
	for _, l := range strings.Split(strings.TrimRight(data, "\n"), "\n") {
		if l != "" {
			t.lines = append(t.lines, strings.Split(l, ":"))
		}
	}
	return t, nil
}

// find returns the entry named name, or nil.
func (t *table) find(name string) []string {
	for _, l := range t.lines {
		if l[0] == name {
			return l
		}
	}
	return nil
}

// set replaces the entry with the same name, or appends it.
func (t *table) set(entry []string) {
	for i, l := range t.lines {
		if l[0] == entry[0] {
			t.lines[i] = entry
			return
		}
	}
	t.lines = append(t.lines, entry)
}

// ids are the numeric IDs (third field) in use.
func (t *table) ids() map[int]bool {
	out := map[int]bool{}
	for _, l := range t.lines {
		if len(l) > 2 {
			if n, err := strconv.Atoi(l[2]); err == nil {
				out[n] = true
			}
		}
	}
	return out
}

func (t *table) write(root string, perm os.FileMode) error {
	var b strings.Builder
	for _, l := range t.lines {
		b.WriteString(strings.Join(l, ":") + "\n")
	}
	return writeIn(root, t.path, b.String(), perm)
}

// freeID is the first ID from 1000 up (useradd's UID_MIN) not in use.
func freeID(used ...map[int]bool) int {
	for id := 1000; ; id++ {
		if !slices.ContainsFunc(used, func(m map[int]bool) bool { return m[id] }) {
			return id
		}
	}
}

// accounts creates the config's Groups and Users (as groupadd and useradd
// would, with a private group per user unless PrimaryGroup is given),
// their home directories and authorized SSH keys, and sets passwords.
func (j *job) accounts(root string) error {
	if len(j.sc.Users) == 0 && len(j.sc.Groups) == 0 {
		return nil
	}
	passwd, err := readTable(root, "/etc/passwd")
	if err != nil {
		return err
	}
	if len(passwd.lines) == 0 {
		return fmt.Errorf("Users: the image has no /etc/passwd to add users to (install the package that provides it)")
	}
	group, err := readTable(root, "/etc/group")
	if err != nil {
		return err
	}
	shadow, err := readTable(root, "/etc/shadow")
	if err != nil {
		return err
	}
	for _, g := range j.sc.Groups {
		if group.find(g.Name) != nil {
			continue
		}
		gid := g.GID
		if gid == "" {
			gid = strconv.Itoa(freeID(group.ids()))
		}
		group.set([]string{g.Name, "x", gid, ""})
	}
	lastChange := strconv.FormatInt(j.epoch/86400, 10)
	for _, u := range j.sc.Users {
		old := passwd.find(u.Name)
		uid := u.UID
		switch {
		case uid == "" && old != nil:
			uid = old[2]
		case uid == "":
			uid = strconv.Itoa(freeID(passwd.ids(), group.ids()))
		}
		gid := ""
		switch {
		case u.PrimaryGroup != "":
			g := group.find(u.PrimaryGroup)
			if g == nil {
				return fmt.Errorf("Users[%s].PrimaryGroup: no group %q in the image or the config", u.Name, u.PrimaryGroup)
			}
			gid = g[2]
		case old != nil:
			gid = old[3]
		default: // a private group, with the UID's number when it is free
			if g := group.find(u.Name); g != nil {
				gid = g[2]
			} else {
				gid = uid
				if n, _ := strconv.Atoi(uid); group.ids()[n] {
					gid = strconv.Itoa(freeID(group.ids()))
				}
				group.set([]string{u.Name, "x", gid, ""})
			}
		}
		for _, sg := range u.SecondaryGroups {
			g := group.find(sg)
			if g == nil {
				return fmt.Errorf("Users[%s].SecondaryGroups: no group %q in the image or the config", u.Name, sg)
			}
			members := strings.FieldsFunc(g[3], func(r rune) bool { return r == ',' })
			if !slices.Contains(members, u.Name) {
				g[3] = strings.Join(append(members, u.Name), ",")
			}
		}
		home := u.HomeDirectory
		switch {
		case home == "" && old != nil:
			home = old[5]
		case home == "" && u.Name == "root":
			home = "/root"
		case home == "":
			home = "/home/" + u.Name
		}
		shell := u.StartupCommand
		switch {
		case shell == "" && old != nil:
			shell = old[6]
		case shell == "":
			shell = "/bin/sh"
		}
		gecos := ""
		if old != nil {
			gecos = old[4]
		}
		passwd.set([]string{u.Name, "x", uid, gid, gecos, home, shell})
		hash, err := j.passwordHash(u)
		if err != nil {
			return err
		}
		maxDays := ""
		if u.PasswordExpiresDays > 0 {
			maxDays = strconv.FormatInt(u.PasswordExpiresDays, 10)
		}
		shadow.set([]string{u.Name, hash, lastChange, "0", maxDays, "7", "", "", ""})
		if err := j.home(root, u, home, uid, gid); err != nil {
			return err
		}
	}
	if err := passwd.write(root, 0o644); err != nil {
		return err
	}
	if err := group.write(root, 0o644); err != nil {
		return err
	}
	return shadow.write(root, 0o600)
}

// passwordHash is the shadow password field: the given hash, a SHA-512
// crypt of the clear text (openssl passwd -6, with a salt derived from
// the seed and the user so the image is reproducible), or "!" (locked)
// for no password.
func (j *job) passwordHash(u image.User) (string, error) {
	switch {
	case u.Password == "":
		return "!", nil
	case u.PasswordHashed:
		return u.Password, nil
	}
	sum := sha256.Sum256([]byte(j.o.Seed + "/" + u.Name + "/" + u.Password))
	salt := strings.NewReplacer("+", ".", "=", "").Replace(base64.StdEncoding.EncodeToString(sum[:12]))
	cmd := exec.Command("openssl", "passwd", "-6", "-salt", salt, "-stdin")
	cmd.Stdin = strings.NewReader(u.Password + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("Users[%s]: hashing the password with openssl: %v: %s", u.Name, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// home makes a user's home directory (0700, owned by the user) and its
// ~/.ssh/authorized_keys from SSHPubKeys and SSHPubKeyPaths.
func (j *job) home(root string, u image.User, home, uid, gid string) error {
	dir, err := inRoot(root, home)
	if err != nil {
		return fmt.Errorf("Users[%s].HomeDirectory: %w", u.Name, err)
	}
	uidN, _ := strconv.Atoi(uid)
	gidN, _ := strconv.Atoi(gid)
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if err := os.Chown(dir, uidN, gidN); err != nil {
			return err
		}
	}
	keys := slices.Clone(u.SSHPubKeys)
	for _, p := range u.SSHPubKeyPaths {
		data, err := os.ReadFile(filepath.Join(j.o.Config.Dir(), p))
		if err != nil {
			return fmt.Errorf("Users[%s].SSHPubKeyPaths: %w", u.Name, err)
		}
		keys = append(keys, strings.TrimSpace(string(data)))
	}
	if len(keys) == 0 {
		return nil
	}
	ssh := filepath.Join(home, ".ssh")
	if err := writeIn(root, ssh+"/authorized_keys", strings.Join(keys, "\n")+"\n", 0o600); err != nil {
		return err
	}
	for _, p := range []string{ssh + "/authorized_keys", ssh} {
		host, _ := inRoot(root, p)
		if err := os.Chown(host, uidN, gidN); err != nil {
			return err
		}
	}
	hostSSH, _ := inRoot(root, ssh)
	return os.Chmod(hostSSH, 0o700)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
