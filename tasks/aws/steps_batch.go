package aws

import (
	"context"
	"fmt"
	"sync"

	"github.com/day2bot/day2bot/tasks"
)

// runBatches runs the plan's steps a.parallel at a time, one batch after
// the other, for actions over hundreds of independent resources (a revoke
// across every bucket of a research lab) where one-at-a-time would take
// minutes. Results keep the plan's order. As in the serial run, a denied
// permission stops the attempts (the next batches are "not attempted"),
// and progress is reported after each batch.
func (a *stepAction) runBatches(ctx context.Context, changes []tasks.Change, steps []step, progress func(tasks.Progress)) []tasks.ResourceResult {
	out := make([]tasks.ResourceResult, len(changes))
	var (
		mu     sync.Mutex
		denied error
	)
	for start := 0; start < len(changes); start += a.parallel {
		end := min(start+a.parallel, len(changes))
		var wg sync.WaitGroup
		for i := start; i < end; i++ {
			ch := changes[i]
			mu.Lock()
			d := denied
			mu.Unlock()
			switch {
			case steps[i] == nil:
				out[i] = tasks.ResourceResult{Resource: ch.Resource, Status: tasks.StatusSkipped, Detail: ch.Detail}
				continue
			case d != nil:
				out[i] = Failure(ch.Resource, d)
				out[i].Detail = "not attempted: " + out[i].Detail
				continue
			case ctx.Err() != nil:
				out[i] = tasks.ResourceResult{Resource: ch.Resource, Status: tasks.StatusFailed, Detail: "not attempted: " + context.Cause(ctx).Error()}
				continue
			}
			wg.Go(func() {
				detail, err := steps[i](ctx)
				if err == nil {
					out[i] = tasks.ResourceResult{Resource: ch.Resource, Status: tasks.StatusOK, Detail: detail}
					return
				}
				err = Classify(err, a.iam)
				if awsDenied(err) {
					mu.Lock()
					denied = err
					mu.Unlock()
				}
				out[i] = Failure(ch.Resource, err)
			})
		}
		wg.Wait()
		if progress != nil {
			failed := 0
			for _, rr := range out[:end] {
				if rr.Status == tasks.StatusFailed {
					failed++
				}
			}
			progress(tasks.Progress{Done: end, Total: len(changes), Message: fmt.Sprintf("%d of %d %s done, %d failed", end, len(changes), a.noun, failed)})
		}
	}
	return out
}
