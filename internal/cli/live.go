package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"slipway/internal/build"
)

// liveView draws the package stage on a terminal: finished builds scroll
// by as lines; a status line below shows the running builds with their
// elapsed time, the counts and an estimate of the time left.
type liveView struct {
	w       io.Writer
	mu      sync.Mutex
	start   time.Time
	running map[string]time.Time
	counts  map[string]int
	done    int
	total   int
	workers int
	spent   time.Duration // total time of the builds finished
	built   int
	stop    chan struct{}
}

func newLiveView(w io.Writer, workers int) *liveView {
	v := &liveView{w: w, start: time.Now(), running: map[string]time.Time{}, counts: map[string]int{},
		workers: max(1, workers), stop: make(chan struct{})}
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				v.mu.Lock()
				v.draw()
				v.mu.Unlock()
			case <-v.stop:
				return
			}
		}
	}()
	return v
}

// event takes a scheduler event.
func (v *liveView) event(e build.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.total, v.done = e.Total, e.Finished
	if e.Started {
		v.running[e.Name] = time.Now()
		v.draw()
		return
	}
	o := e.Outcome
	what := o.Verb()
	if what == "built" {
		v.spent += o.End.Sub(o.Start)
		v.built++
	}
	delete(v.running, e.Name)
	v.counts[what]++
	line := o.Line(e.Name)
	fmt.Fprintf(v.w, "\r\033[K%s\n", line)
	v.draw()
}

// draw redraws the status line (v.mu held).
func (v *liveView) draw() {
	names := make([]string, 0, len(v.running))
	for n := range v.running {
		names = append(names, n)
	}
	slices.Sort(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %s", n, time.Since(v.running[n]).Round(time.Second)))
	}
	eta := "?"
	if v.built > 0 {
		left := v.total - v.done
		eta = (v.spent / time.Duration(v.built) * time.Duration(left) / time.Duration(v.workers)).Round(time.Second).String()
	}
	status := fmt.Sprintf("[%d/%d] %d built, %d reused, %d failed, %d blocked, %s elapsed, ETA %s | %s",
		v.done, v.total, v.counts["built"], v.counts["reused"], v.counts["FAILED"], v.counts["blocked"],
		time.Since(v.start).Round(time.Second), eta, strings.Join(parts, ", "))
	fmt.Fprintf(v.w, "\r\033[K%s", status)
}

func (v *liveView) close() {
	close(v.stop)
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprint(v.w, "\r\033[K")
}
