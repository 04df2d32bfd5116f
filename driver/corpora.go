package driver

import (
	"fmt"

	"rally/driver/corpus"
	"rally/track"
)

// CorpusUse is one documents file that one task of a challenge reads:
// a bulk task reads its Clients' slices of it (corpus.Bounds).
type CorpusUse struct {
	// Step and Task place the task in the challenge's schedule.
	Step, Task int
	// Clients is the task's number of clients on all hosts.
	Clients int
	Spec    corpus.Spec
}

// CorpusUses lists the documents files each task of the challenge reads,
// as the task's operation picks them (a bulk's corpora, indices and
// data-streams filters), in schedule order: what a load driver's clients
// need of the corpora before the race.
func CorpusUses(t *track.Track, c *track.Challenge) ([]CorpusUse, error) {
	if t == nil || c == nil {
		return nil, fmt.Errorf("corpus uses: no track or challenge")
	}
	var out []CorpusUse
	for si := range c.Schedule {
		for ti := range c.Schedule[si].Tasks {
			task := &c.Schedule[si].Tasks[ti]
			spec, err := compileTask(t, task)
			if err != nil {
				return nil, fmt.Errorf("task %q: %w", task.Name, err)
			}
			b, ok := spec.(*bulkSpec)
			if !ok {
				continue
			}
			for _, f := range b.files {
				out = append(out, CorpusUse{Step: si, Task: ti, Clients: max(task.Clients, 1), Spec: f.spec})
			}
		}
	}
	return out, nil
}
