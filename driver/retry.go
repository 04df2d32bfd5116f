package driver

import (
	"context"
	"errors"
	"time"

	"rally/metrics"
)

// retryPolicy is Rally's retry wrapper for administrative operations:
// "retries" (0), "retry-until-success" (false), "retry-wait-period"
// (0.5 s), "retry-on-timeout" (true), "retry-on-error" (false).
type retryPolicy struct {
	attempts  int64 // 0 means until success
	onError   bool
	onTimeout bool
	wait      time.Duration
}

func (p params) retryPolicy() (retryPolicy, error) {
	var rp retryPolicy
	until, err := p.bool("retry-until-success", false)
	if err != nil {
		return rp, err
	}
	retries, err := p.int("retries", 0)
	if err != nil {
		return rp, err
	}
	if retries < 0 {
		return rp, errors.New(`parameter "retries": want >= 0`)
	}
	if rp.onError, err = p.bool("retry-on-error", false); err != nil {
		return rp, err
	}
	if rp.onTimeout, err = p.bool("retry-on-timeout", true); err != nil {
		return rp, err
	}
	if rp.wait, err = p.seconds("retry-wait-period", 500*time.Millisecond); err != nil {
		return rp, err
	}
	if until {
		rp.attempts, rp.onError = 0, true
	} else {
		rp.attempts = retries + 1
	}
	return rp, nil
}

// retrying wraps a runner with a retry policy. Condition failures (e.g.
// cluster health not reached) are retried when retry-on-error is set;
// timeouts, broken connections and HTTP 408 when retry-on-timeout is set;
// other HTTP errors are returned at once, as in Rally. Waiting between
// attempts counts towards the iteration's service time, as in Rally.
type retrying struct {
	inner  runner
	policy retryPolicy
}

func (r retrying) run(ctx context.Context, s *session) outcome {
	for attempt := int64(1); ; attempt++ {
		out := r.inner.run(ctx, s)
		if out.err == nil || out.exhausted || ctx.Err() != nil {
			return out
		}
		if r.policy.attempts > 0 && attempt >= r.policy.attempts {
			return out
		}
		var re *RequestError
		retry := false
		switch {
		case out.transport || (errors.As(out.err, &re) && re.Status == 408):
			retry = r.policy.onTimeout
		case out.errType == metrics.ErrCondition:
			retry = r.policy.onError
		}
		if !retry {
			return out
		}
		if !sleepCtx(ctx, r.policy.wait) {
			return out
		}
	}
}

// withRetry wraps a runner in the task's retry policy.
func withRetry(p params, inner runner) (runner, error) {
	rp, err := p.retryPolicy()
	if err != nil {
		return nil, err
	}
	return retrying{inner: inner, policy: rp}, nil
}
