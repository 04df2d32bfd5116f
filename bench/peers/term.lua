-- wrk script for bench/peers.sh: the closed-loop case's term query, the
-- same body the track's "term" operation sends.
wrk.method = "POST"
wrk.body = '{"query":{"term":{"status":404}}}'
wrk.headers["Content-Type"] = "application/json"
