package report

import (
	"fmt"
	"io"
	"strings"
)

// writeSaturation warns about load drivers that may have been the
// bottleneck of a step: busy on every CPU they had, or starved of CPU by
// other work. Their figures may then include their own lateness, which
// is no fact about the target (Locust warns alike; esrally does not).
func writeSaturation(w io.Writer, r *Race, f Format) error {
	var lines []string
	for _, l := range r.LoadDrivers {
		if l.Saturation == "" {
			continue
		}
		tasks := strings.Join(l.Tasks, ", ")
		if tasks == "" {
			tasks = "no task"
		}
		lines = append(lines, fmt.Sprintf("load driver %s in step %d (%s): %s", l.Host, l.Step, tasks, l.Saturation))
	}
	if len(lines) == 0 {
		return nil
	}
	head := "Warning:"
	if f == Markdown {
		head = "**Warning:**"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s the load driver may have been the bottleneck, not the target; its latencies may include its own lateness:\n", head)
	for _, l := range lines {
		b.WriteString(bullet(f) + l + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
