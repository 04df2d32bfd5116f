package estarget

import (
	"fmt"
	"net/http"
)

// esError is one Elasticsearch exception as it appears in REST responses:
// the "error" object of a failed request, or the "error" of a bulk item.
type esError struct {
	status int
	typ    string
	reason string
	// index and indexUUID are written when set, as Elasticsearch does for
	// index-scoped exceptions ("index_uuid" is "_na_" when none exists).
	index     string
	indexUUID string
	// extra holds further string members in order (resource.type, shard, ...).
	extra [][2]string
}

func (e *esError) Error() string { return e.typ + ": " + e.reason }

// writeMembers writes the members of one exception object.
func (e *esError) writeMembers(en *enc) {
	en.kstr("type", e.typ)
	en.kstr("reason", e.reason)
	for _, kv := range e.extra {
		en.kstr(kv[0], kv[1])
	}
	if e.indexUUID != "" {
		en.kstr("index_uuid", e.indexUUID)
	}
	if e.index != "" {
		en.kstr("index", e.index)
	}
}

// writeTop writes the whole body of a failed request:
// {"error":{"root_cause":[{...}],"type":...,"reason":...},"status":N}.
func (e *esError) writeTop(en *enc) {
	en.obj()
	en.kobj("error")
	en.karr("root_cause")
	en.obj()
	e.writeMembers(en)
	en.end()
	en.endArr()
	e.writeMembers(en)
	en.end()
	en.kint("status", int64(e.status))
	en.end()
}

func errf(status int, typ, format string, args ...any) *esError {
	return &esError{status: status, typ: typ, reason: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *esError {
	return errf(http.StatusBadRequest, "illegal_argument_exception", format, args...)
}

func parseError(format string, args ...any) *esError {
	return errf(http.StatusBadRequest, "parsing_exception", format, args...)
}

func xContentError(format string, args ...any) *esError {
	return errf(http.StatusBadRequest, "x_content_parse_exception", format, args...)
}

func indexNotFound(name string) *esError {
	return &esError{
		status: http.StatusNotFound, typ: "index_not_found_exception",
		reason:    "no such index [" + name + "]",
		extra:     [][2]string{{"resource.type", "index_or_alias"}, {"resource.id", name}},
		indexUUID: "_na_", index: name,
	}
}

// validationFailed is the 400 action_request_validation_exception of a
// request that fails one validation: "Validation Failed: 1: <what>;".
func validationFailed(what string) *esError {
	return errf(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: %s;", what)
}

func resourceNotFound(format string, args ...any) *esError {
	return errf(http.StatusNotFound, "resource_not_found_exception", format, args...)
}

func indexExists(ix *index) *esError {
	return &esError{
		status: http.StatusBadRequest, typ: "resource_already_exists_exception",
		reason:    "index [" + ix.name + "/" + ix.uuid + "] already exists",
		indexUUID: ix.uuid, index: ix.name,
	}
}

func invalidIndexName(name, why string) *esError {
	return &esError{
		status: http.StatusBadRequest, typ: "invalid_index_name_exception",
		reason:    "Invalid index name [" + name + "], " + why,
		indexUUID: "_na_", index: name,
	}
}
