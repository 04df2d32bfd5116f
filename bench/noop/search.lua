-- wrk script for bench/run.sh: the search the track's "search" operation
-- sends: GET /noop/_search with a match_all body, as rally does.
wrk.method = "GET"
wrk.body = '{"query":{"match_all":{}}}'
wrk.headers["Content-Type"] = "application/json"
