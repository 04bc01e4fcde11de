package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// part is the file a download is written to before it is renamed into
// place. It is normally dest + ".part", held under an exclusive flock so
// that concurrent fetches of the same dest (other goroutines or processes
// sharing a cache) wait for each other, and kept after an interrupted
// download so a later fetch can resume it. When the lock cannot be taken
// (a file system without flock) it is a unique temporary file instead.
type part struct {
	f      *os.File
	path   string
	shared bool // path is dest+".part", locked
}

// lockPoll is how often a fetch waiting for another one's lock retries.
const lockPoll = 50 * time.Millisecond

// openPart opens and locks dest's part file, waiting while another fetch
// holds it.
func openPart(ctx context.Context, dest string) (*part, error) {
	path := dest + ".part"
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		if err := lockWait(ctx, f); err != nil {
			f.Close()
			if errors.Is(err, syscall.ENOLCK) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EINVAL) {
				return tempPart(dest)
			}
			return nil, err
		}
		// The holder we waited for may have renamed or removed the file:
		// the lock is only ours if the path still names the locked file.
		held, _ := f.Stat()
		now, err := os.Stat(path)
		if err == nil && os.SameFile(held, now) {
			return &part{f: f, path: path, shared: true}, nil
		}
		f.Close()
	}
}

func lockWait(ctx context.Context, f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(lockPoll):
		}
	}
}

func tempPart(dest string) (*part, error) {
	f, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-")
	if err != nil {
		return nil, err
	}
	return &part{f: f, path: f.Name()}, nil
}

// size is how much has been written so far.
func (p *part) size() (int64, error) {
	fi, err := p.f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// reset empties the file, to download from the start.
func (p *part) reset() error {
	if err := p.f.Truncate(0); err != nil {
		return err
	}
	_, err := p.f.Seek(0, io.SeekStart)
	return err
}

// appendFrom positions the file at its end, for a resumed download.
func (p *part) appendFrom() (int64, error) {
	return p.f.Seek(0, io.SeekEnd)
}

// digest hashes the whole file.
func (p *part) digest() (sum string, size int64, err error) {
	if _, err := p.f.Seek(0, io.SeekStart); err != nil {
		return "", 0, err
	}
	h := sha256.New()
	n, err := io.Copy(h, p.f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// commit syncs the file and renames it to dest.
func (p *part) commit(dest string) error {
	if err := p.f.Sync(); err != nil {
		p.discard()
		return err
	}
	// Rename while still holding the lock: a waiter then sees that the
	// path no longer names the file it locked.
	if err := os.Rename(p.path, dest); err != nil {
		p.discard()
		return err
	}
	return p.f.Close()
}

// discard deletes the file.
func (p *part) discard() {
	os.Remove(p.path)
	p.f.Close()
}

// keep leaves a shared part file for a later fetch to resume; a private
// temporary file cannot be found again and is deleted.
func (p *part) keep() {
	if !p.shared {
		p.discard()
		return
	}
	if n, err := p.size(); err != nil || n == 0 {
		p.discard()
		return
	}
	p.f.Close()
}
