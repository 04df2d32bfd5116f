// Package track loads Rally-format tracks: it renders track.json (a Jinja2
// template, with Rally's "rally.helpers") with the track parameters, decodes
// it into a typed, validated Track, and says per challenge whether it can
// run here and why not (Check).
//
// It must not talk to a cluster or run anything: the driver does that. It
// does not run track.py files either: it reads them as text (TrackPy) to
// know which runners, param sources, schedulers and track processors a
// track registers, and Check refuses the challenges that need them, naming
// them and where they are written. What one challenge needs never keeps
// the track from loading, nor its other challenges from running.
//
// # Rendering
//
// Load follows esrally's loader step by step, so existing tracks render the
// same way:
//
//   - rally.collect(parts="...") calls written the way Rally's regular
//     expression matches them are inlined textually before rendering: the
//     glob is relative to the file doing the collect, files are sorted and
//     joined with ",\n", and collects inside them are expanded relative to
//     their own directory. The assembled text is rendered as one template
//     (so {% set %} in track.json is visible in challenge files), and a
//     source map turns template errors back into file:line of the part.
//   - The template engine is gonja (github.com/nikolalohinski/gonja/v2),
//     which follows Jinja2. Templates see the track parameters plus Rally's
//     globals build_flavor ("default" unless LoadOptions.BuildFlavor),
//     serverless_operator, now (Unix seconds) and glob, the filters
//     days_ago, get_start_date and get_end_date, and rally.helpers with
//     Rally's collect and exists_set_param macros.
//   - Index bodies and template files are rendered the same way, with the
//     same parameters, relative to the track directory.
//   - testdata/jinja2 holds what Python's Jinja2 renders for the shared test
//     tracks; the tests compare gonja's output with it.
//
// One known difference: a parameter given as none (nil) is "not defined"
// for gonja, while Jinja2 treats None as defined.
//
// Parameters the templates never refer to are an error, as in Rally
// (LoadOptions.AllowUnusedParams makes them a warning). "Refer to" is
// decided from the template tokens: every name in an expression except
// attribute, filter and test names.
//
// # Decoding
//
// The rendered JSON is parsed by a small parser that keeps offsets, so a
// schema problem is reported with its JSON path, and with the file, line and
// column where its text is written (the included file, the {{ ... }} that
// wrote a value; see origin.go), for example
//
//	challenges/default.json:42:17: challenges[0].schedule[3].clients: want a positive integer, got "four"
//
// Several schema problems are collected in one pass (ErrorList). Rally's
// rules are kept: defaults copied from the corpus into each documents entry
// (a single index or data stream is the default target), one default
// challenge, unique task names per challenge, no mixing of iterations and
// time periods, ramp-up only on the parallel element, target-throughput
// either a number or "N unit/s", target-interval s meaning 1/s ops/s for
// the whole task, include-in-reporting defaulting to false for
// administrative operation types. A parallel element's "clients" is the
// block's total client count (Step.Clients), not a per-task default; its
// warmup/iteration/time-period keys are defaults for its tasks.
//
// Where we differ on purpose: a task-level include-in-reporting overrides
// the operation's; track parameters that look like JSON but do not parse
// are an error; .yaml/.yml parameter files are accepted. A "schedule" that
// is not esrally's (deterministic, poisson) loads, and Check refuses the
// challenges that use it.
//
// Numbers keep their JSON text (json.Number) in Operation.Params and
// Task.Params; zero means "unset" for iterations and time periods.
//
// # Test mode
//
// LoadOptions.TestMode applies Rally's --test-mode rewrite after loading;
// see applyTestMode. Corpus files switch to their "-1k" variants there.
package track
