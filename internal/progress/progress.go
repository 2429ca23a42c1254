// Package progress shows how far a long job has come: a bar with the rate and the time left
// when the output is a terminal, and a log line every few seconds otherwise.
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Reporter takes the count of events done so far.
type Reporter struct {
	update func(done int64)
	finish func()
}

// New returns a reporter of a job over total events. When w is a terminal it draws a bar
// described by desc on w; otherwise it logs msg with attrs and the count, the rate and the
// time left, at once and then at most every two seconds.
func New(w io.Writer, total int64, desc string, log *slog.Logger, msg string, attrs ...any) *Reporter {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(desc),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionFullWidth())
		return &Reporter{update: func(n int64) { _ = bar.Set64(n) }, finish: func() { _ = bar.Finish(); fmt.Fprintln(w) }}
	}
	start, last := time.Now(), time.Time{} // the first batch is logged at once
	return &Reporter{
		update: func(n int64) {
			if time.Since(last) < 2*time.Second {
				return
			}
			last = time.Now()
			rate := float64(n) / time.Since(start).Seconds()
			left := time.Duration(float64(total-n) / max(rate, 1) * float64(time.Second))
			log.Info(msg, append(attrs[:len(attrs):len(attrs)], "events", n, "of", total, "events_per_s", int64(rate), "left", left.Round(time.Second).String())...)
		},
		finish: func() {},
	}
}

// Update reports done events done so far.
func (r *Reporter) Update(done int64) { r.update(done) }

// Done ends the bar (a terminal's line is finished).
func (r *Reporter) Done() { r.finish() }
