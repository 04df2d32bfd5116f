package track

import "testing"

func TestOperationTypeLists(t *testing.T) {
	for typ, admin := range map[string]bool{
		"run-until": false, "esql": false, "composite": false, "field-caps": false,
		"shrink-index": true, "create-ilm-policy": true, "wait-for-transform": true,
	} {
		if !IsBuiltinOperationType(typ) || IsAdminOperationType(typ) != admin {
			t.Errorf("%s: built in %v, administrative %v; want built in, administrative %v", typ, IsBuiltinOperationType(typ), IsAdminOperationType(typ), admin)
		}
	}
	if IsBuiltinOperationType("esql-profile") || IsBuiltinOperationType("reindex") {
		t.Error("esrally has no esql-profile or reindex runner")
	}
}

// Rally's "file-reader" parameter source needs no track.py; others do.
func TestBuiltinParamSourceIsNoRequirement(t *testing.T) {
	c := &Challenge{Schedule: []Step{{Tasks: []Task{
		{Name: "load", Operation: Operation{Name: "load", Type: "bulk", ParamSource: "file-reader"}},
		{Name: "q", Operation: Operation{Name: "q", Type: "search", ParamSource: "my-source"}},
	}}}}
	reqs := (&Track{}).CustomRequirements(c)
	if len(reqs) != 1 || reqs[0].Name != "my-source" {
		t.Fatalf("requirements %v, want only my-source", reqs)
	}
}
