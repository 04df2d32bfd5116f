package track

import "slices"

// BuiltinOperationTypes are the operation types Rally itself runs
// (esrally track.OperationType plus the esql runner), in Rally's order:
// first the non-administrative ones, then the administrative ones. An
// operation of any other type needs a runner from the track's track.py
// (Operation.CustomRunner). Which of these our driver implements is the
// driver's business, not this list's.
var BuiltinOperationTypes = []string{
	// non-administrative: measured and reported by default
	"index-stats",
	"node-stats",
	"search",
	"bulk",
	"raw-request",
	"wait-for-recovery",
	"wait-for-snapshot-create",
	"composite",
	"submit-async-search",
	"get-async-search",
	"delete-async-search",
	"paginated-search",
	"scroll-search",
	"open-point-in-time",
	"close-point-in-time",
	"sql",
	"field-caps",
	"composite-agg",
	"wait-for-current-snapshots-create",
	"downsample",
	"esql",
	"run-until",
	// administrative: left out of reports unless include-in-reporting is set
	"force-merge",
	"cluster-health",
	"put-pipeline",
	"refresh",
	"create-index",
	"delete-index",
	"create-index-template",
	"delete-index-template",
	"shrink-index",
	"create-ml-datafeed",
	"delete-ml-datafeed",
	"start-ml-datafeed",
	"stop-ml-datafeed",
	"create-ml-job",
	"delete-ml-job",
	"open-ml-job",
	"close-ml-job",
	"sleep",
	"delete-snapshot-repository",
	"create-snapshot-repository",
	"create-snapshot",
	"restore-snapshot",
	"put-settings",
	"create-transform",
	"start-transform",
	"wait-for-transform",
	"delete-transform",
	"create-data-stream",
	"delete-data-stream",
	"create-composable-template",
	"delete-composable-template",
	"create-component-template",
	"delete-component-template",
	"transform-stats",
	"create-ilm-policy",
	"delete-ilm-policy",
}

// firstAdminOperationType is where the administrative types start in
// BuiltinOperationTypes.
const firstAdminOperationType = "force-merge"

// BuiltinParamSources are the parameter sources Rally registers by name,
// which a track names in "param-source" without a track.py: "file-reader"
// is esrally's bulk parameter source.
var BuiltinParamSources = []string{"file-reader"}

// IsBuiltinParamSource reports whether a param-source is one of Rally's
// own (BuiltinParamSources).
func IsBuiltinParamSource(name string) bool {
	return slices.Contains(BuiltinParamSources, name)
}

// IsBuiltinOperationType reports whether Rally runs operations of this type
// without a track.py.
func IsBuiltinOperationType(t string) bool {
	return slices.Contains(BuiltinOperationTypes, t)
}

// IsAdminOperationType reports whether t is one of Rally's administrative
// operation types (create-index, refresh, cluster-health, ...), which
// Rally leaves out of reports unless the operation sets
// "include-in-reporting": true.
func IsAdminOperationType(t string) bool {
	i := slices.Index(BuiltinOperationTypes, t)
	return i >= 0 && i >= slices.Index(BuiltinOperationTypes, firstAdminOperationType)
}
