package slack

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// outbox sends Web API calls that post into a channel one at a time per
// channel, paced to Slack's ≈1 message per second per channel. A 429 is
// retried after its Retry-After, as often as it takes: a message accepted
// by the outbox is never dropped. Each active channel has one goroutine;
// it exits when the channel has been idle for a while. The queue of a
// channel is bounded: a full queue blocks the sender (back-pressure)
// instead of dropping or growing without limit. Retries are in
// ratelimit.go.
type outbox struct {
	interval time.Duration
	idle     time.Duration
	size     int
	after    func(time.Duration) <-chan time.Time
	onLimit  func(channel string, wait time.Duration)
	// attemptTimeout bounds one Web API call.
	attemptTimeout time.Duration

	mu      sync.Mutex
	lanes   map[string]*lane
	closed  bool
	wg      sync.WaitGroup
	closing chan struct{} // closed when shutdown begins: lanes exit once empty
	quit    chan struct{} // closed when shutdown gives up on queued work
	abort   func()        // closes quit and ends quitCtx, once
	// quitCtx ends with quit: a call in flight is given up too, rather
	// than holding shutdown for its attemptTimeout against a Slack that
	// does not answer.
	quitCtx context.Context
}

type lane struct {
	jobs    chan *job
	pending int // enqueued or being enqueued, not yet finished
}

type job struct {
	ctx  context.Context
	call func(context.Context) error
	done chan error
}

// errOutboxClosed is returned to callers once shutdown has begun.
var errOutboxClosed = errors.New("slack outbox closed")

func newOutbox(interval time.Duration, size int, after func(time.Duration) <-chan time.Time) *outbox {
	o := &outbox{
		interval:       interval,
		idle:           max(30*interval, time.Second),
		size:           size,
		after:          after,
		onLimit:        func(string, time.Duration) {},
		attemptTimeout: 30 * time.Second,
		lanes:          map[string]*lane{},
		closing:        make(chan struct{}),
		quit:           make(chan struct{}),
	}
	var giveUp context.CancelFunc
	o.quitCtx, giveUp = context.WithCancel(context.Background())
	o.abort = sync.OnceFunc(func() { close(o.quit); giveUp() })
	return o
}

// do runs call in channel's lane and waits for its result. If ctx ends
// first, do returns ctx.Err() but the call still happens: the message was
// accepted and is not dropped.
func (o *outbox) do(ctx context.Context, channel string, call func(context.Context) error) error {
	// Waiting for the channel's pace takes no CPU: let other handovers run.
	yieldSlot(ctx)
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return errOutboxClosed
	}
	l := o.lanes[channel]
	if l == nil {
		l = &lane{jobs: make(chan *job, o.size)}
		o.lanes[channel] = l
		o.wg.Add(1)
		go o.run(channel, l)
	}
	l.pending++
	o.mu.Unlock()

	j := &job{ctx: context.WithoutCancel(ctx), call: call, done: make(chan error, 1)}
	select {
	case l.jobs <- j:
	case <-ctx.Done():
		o.mu.Lock()
		l.pending--
		o.mu.Unlock()
		return fmt.Errorf("queue message for %s: %w", channel, ctx.Err())
	case <-o.quit:
		return fmt.Errorf("queue message for %s: %w", channel, errOutboxClosed)
	}
	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("wait for message to %s: %w", channel, ctx.Err())
	case <-o.quit:
		return fmt.Errorf("wait for message to %s: %w", channel, errOutboxClosed)
	}
}

func (o *outbox) run(channel string, l *lane) {
	defer o.wg.Done()
	idle, closing := o.idle, o.closing
	for {
		select {
		case j := <-l.jobs:
			j.done <- o.attempt(channel, j)
			o.mu.Lock()
			l.pending--
			o.mu.Unlock()
			// Pace the channel whatever the outcome: a failed post
			// still counted against Slack's limit.
			select {
			case <-o.after(o.interval):
			case <-o.quit:
			}
		case <-closing:
			// From now on, look for an empty lane at every pace tick.
			idle, closing = o.interval, nil
		case <-o.after(idle):
			o.mu.Lock()
			if l.pending == 0 {
				delete(o.lanes, channel)
				o.mu.Unlock()
				return
			}
			o.mu.Unlock()
		case <-o.quit:
			// Shutdown gave up: fail what is left so no caller hangs.
			for {
				select {
				case j := <-l.jobs:
					j.done <- errOutboxClosed
				default:
					return
				}
			}
		}
	}
}

// attempt calls until it succeeds or fails with anything but a rate limit.
func (o *outbox) attempt(channel string, j *job) error {
	r := retry{after: o.after, stop: o.quit, onLimit: func(wait time.Duration) { o.onLimit(channel, wait) }}
	return r.untilNotLimited(j.ctx, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, o.attemptTimeout)
		defer cancel()
		defer context.AfterFunc(o.quitCtx, cancel)()
		return j.call(ctx)
	})
}

// close stops accepting work and waits for queued messages to go out, or
// for ctx to end, whichever is first.
func (o *outbox) close(ctx context.Context) error {
	o.mu.Lock()
	if !o.closed {
		o.closed = true
		close(o.closing)
	}
	o.mu.Unlock()
	// Lanes exit once idle; waiting for them means waiting until
	// everything queued has been sent.
	drained := doneWhen(o.wg.Wait)
	select {
	case <-drained:
		// Lanes also exit when the outbox gave up on them; that is not a
		// clean drain, whichever of the two select saw first.
		select {
		case <-o.quit:
			return fmt.Errorf("drain slack outbox: %w", errOutboxClosed)
		default:
			return nil
		}
	case <-o.quit:
		<-drained
		return fmt.Errorf("drain slack outbox: %w", errOutboxClosed)
	case <-ctx.Done():
		o.abort()
		<-drained
		return fmt.Errorf("drain slack outbox: %w", ctx.Err())
	}
}

// abortWhen gives up on everything queued, and fails every waiting
// sender, once ctx ends: the deadline of a graceful shutdown. Until then
// the outbox works as usual.
func (o *outbox) abortWhen(ctx context.Context) {
	go func() {
		select {
		case <-ctx.Done():
			o.abort()
		case <-o.quit:
		}
	}()
}
