package track

import (
	"reflect"
	"testing"
)

func TestScanTrackPy(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want TrackPy
	}{
		{"registrations by literal name, on one line or several", `
def register(registry):
    registry.register_param_source("initial-indices-source", InitialIndicesParamSource)
    registry.register_param_source(
        'add-track-path', parameter_sources.add_track_path
    )
    registry.register_runner("raw-bulk", RawBulkIndex(), async_runner=True)
    registry.register_scheduler("workflow-scheduler", WorkflowScheduler)
`, TrackPy{
			ParamSources: []Registration{{Name: "initial-indices-source", Literal: true, Line: 3}, {Name: "add-track-path", Literal: true, Line: 4}},
			Runners:      []Registration{{Name: "raw-bulk", Literal: true, Line: 7}},
			Schedulers:   []Registration{{Name: "workflow-scheduler", Literal: true, Line: 8}},
		}},
		{"a runner registered in both branches of an if, processors by expression", `
def register(registry):
    async_runner = registry.meta_data.get("async_runner", False)
    if async_runner:
        registry.register_runner("reindex", reindex_async, async_runner=True)
    else:
        registry.register_runner("reindex", reindex)
    registry.register_track_processor(RuntimeFieldResolver())
    try:
        registry.register_track_processor(loader.DefaultTrackPreparator())
    except TypeError as e:
        pass
`, TrackPy{
			Runners:    []Registration{{Name: "reindex", Literal: true, Line: 5}, {Name: "reindex", Literal: true, Line: 7}},
			Processors: []Registration{{Name: "RuntimeFieldResolver()", Line: 8}, {Name: "loader.DefaultTrackPreparator()", Line: 10}},
		}},
		{"comments, strings and docstrings are no registrations; computed names are not literal", `
"""Registers things.

    registry.register_runner("in-a-docstring", x)
"""
# registry.register_runner("commented-out", x)
HELP = "call registry.register_runner('in-a-string', r) to add one"

def register(registry):
    for name, runner in RUNNERS.items():
        registry.register_runner(name, runner, async_runner=True)
    registry.register_param_source(f"{PREFIX}-source", Source)
`, TrackPy{
			Runners:      []Registration{{Name: "name", Line: 11}},
			ParamSources: []Registration{{Name: `f"{PREFIX}-source"`, Line: 12}},
		}},
		{"the registry handed to a function of track.py is read, to imported code it is hidden", `
from shared import helpers

def _more(r):
    r.register_runner("more", More())

def register(registry):
    _more(registry)
    helpers.register_all(
        registry)
`, TrackPy{
			Runners: []Registration{{Name: "more", Literal: true, Line: 5}},
			Hidden:  []Registration{{Name: "helpers.register_all", Line: 10}},
		}},
		{"an imported register function is hidden", `
from shared.track import register
`, TrackPy{NoRegister: true}},
		{"an unterminated string does not swallow the file", `
X = "oops
def register(registry):
    registry.register_runner("after", After())
`, TrackPy{
			Runners: []Registration{{Name: "after", Literal: true, Line: 4}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := scanTrackPy(tc.src)
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

func TestTrackPy_custom_processors_leave_out_esrallys_preparator(t *testing.T) {
	py := scanTrackPy(`
def register(registry):
    registry.register_track_processor(TrackIdGenerator())
    registry.register_track_processor(loader.DefaultTrackPreparator())
    registry.register_track_processor(data_generator.DataGenerator())
`)
	var got []string
	for _, r := range py.customProcessors() {
		got = append(got, processorClass(r.Name))
	}
	if !reflect.DeepEqual(got, []string{"TrackIdGenerator", "DataGenerator"}) {
		t.Errorf("custom processors %v", got)
	}
}

func FuzzScanTrackPy(f *testing.F) {
	for _, s := range []string{"", "def register(registry):\n    registry.register_runner('a', b)\n", `"""`, "'", "register_runner(", "def register(", "f'{x}'", "x = (\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		py := scanTrackPy(src)
		for _, r := range append(append(py.Runners, py.ParamSources...), py.Hidden...) {
			if r.Line < 1 {
				t.Errorf("registration %+v has no line", r)
			}
		}
	})
}
