package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

const millisecond = time.Millisecond

// progress shows a live "label N/M" line on a terminal; elsewhere it
// stays silent (the command prints a summary line when done).
type progress struct {
	w     io.Writer
	label string
	tty   bool

	mu    sync.Mutex
	last  time.Time
	shown bool
}

func newProgress(w io.Writer, label string) *progress {
	return &progress{w: w, label: label, tty: isTerminal(w)}
}

// isTerminal reports whether w is a terminal (live views go there; plain
// lines go to pipes and CI logs).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) update(done, total int) {
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if done < total && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.shown = true
	fmt.Fprintf(p.w, "\r\033[K%s %d/%d", p.label, done, total)
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
