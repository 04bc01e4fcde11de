package report

import (
	"fmt"
	"math"
	"time"
)

// Geometry of the timeline, in SVG user units (the svg scales to the page).
const (
	tlWidth   = 1200.0
	tlLeft    = 76.0 // lane labels
	tlRight   = 16.0
	tlTop     = 8.0
	tlLane    = 26.0
	tlBar     = 20.0
	tlAxis    = 30.0 // tick labels below the lanes
	charWidth = 6.6  // of the 11-unit bar font, about
)

// timeline is the laid-out SVG of the package stage's workers.
type timeline struct {
	Width, Height float64
	Lanes         []lane
	Bars          []bar
	Ticks         []tick
	AxisY         float64
	Left, Right   float64 // of the plot
	MidX          float64
	Span          string
	// Empty is set when nothing ran on a worker.
	Empty bool
}

type lane struct {
	Label          string
	Y, W, H, TextY float64
}

type bar struct {
	Decision, Text, Title    string
	X, Y, W, H, TextX, TextY float64
}

type tick struct {
	Label     string
	X, Y1, Y2 float64
	LabelY    float64
	Anchor    string
}

// layout places one lane per worker and one bar per build that ran on
// one, from its start to its end relative to the earliest start.
func layout(pkgs []Package, workers int) timeline {
	var ran []Package
	var t0, t1 time.Time
	for _, p := range pkgs {
		if p.Worker <= 0 || p.Start.IsZero() {
			continue
		}
		ran = append(ran, p)
		workers = max(workers, p.Worker)
		if t0.IsZero() || p.Start.Before(t0) {
			t0 = p.Start
		}
		if end := p.End; end.After(t1) {
			t1 = end
		}
	}
	if len(ran) == 0 {
		return timeline{Width: tlWidth, Height: 60, MidX: tlWidth / 2, Empty: true}
	}
	span := t1.Sub(t0).Seconds()
	if span <= 0 {
		span = 1
	}
	plot := tlWidth - tlLeft - tlRight
	x := func(t time.Time) float64 { return tlLeft + t.Sub(t0).Seconds()/span*plot }

	tl := timeline{Width: tlWidth, Left: tlLeft, Right: tlWidth - tlRight, Span: fmtDuration(t1.Sub(t0))}
	for w := 1; w <= workers; w++ {
		y := tlTop + float64(w-1)*tlLane
		tl.Lanes = append(tl.Lanes, lane{Label: fmt.Sprintf("worker %d", w), Y: y, W: tlWidth - tlRight, H: tlLane - 2, TextY: y + tlLane/2 + 3})
	}
	tl.AxisY = tlTop + float64(workers)*tlLane
	tl.Height = tl.AxisY + tlAxis

	for _, p := range ran {
		end := p.End
		if end.Before(p.Start) {
			end = p.Start
		}
		b := bar{Decision: p.Decision, X: x(p.Start), W: max(x(end)-x(p.Start), 1.5),
			Y: tlTop + float64(p.Worker-1)*tlLane + (tlLane-2-tlBar)/2, H: tlBar,
			Title: fmt.Sprintf("%s\n%s, %s", p.Spec, fmtDuration(end.Sub(p.Start)), p.Decision)}
		b.TextX, b.TextY = b.X+4, b.Y+tlBar/2+4
		b.X, b.W, b.TextX = r1(b.X), r1(b.W), r1(b.TextX)
		b.Text = fit(p.Spec, int((b.W-8)/charWidth))
		tl.Bars = append(tl.Bars, b)
	}

	step := niceStep(span)
	for s := 0.0; s <= span+step/1e6; s += step {
		tx := tlLeft + s/span*plot
		anchor := "middle"
		if s == 0 {
			anchor = "start"
		} else if tx > tlWidth-tlRight-20 {
			anchor = "end"
		}
		tl.Ticks = append(tl.Ticks, tick{Label: fmt.Sprintf("%gs", math.Round(s*100)/100), X: r1(tx),
			Y1: tlTop, Y2: tl.AxisY + 4, LabelY: tl.AxisY + 18, Anchor: anchor})
	}
	return tl
}

// r1 rounds x to a tenth, for short SVG attributes.
func r1(x float64) float64 { return math.Round(x*10) / 10 }

// niceStep is a tick step of 1, 2 or 5 times a power of ten seconds that
// cuts span into at most 10 parts.
func niceStep(span float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(span/10)))
	for _, m := range []float64{1, 2, 5, 10} {
		if span/(m*p) <= 10 {
			return m * p
		}
	}
	return 10 * p
}

// fit cuts s to n characters, marking a cut with an ellipsis; empty when
// too little of it would show.
func fit(s string, n int) string {
	r := []rune(s)
	switch {
	case len(r) <= n:
		return s
	case n < 4:
		return ""
	default:
		return string(r[:n-1]) + "…"
	}
}
