package bot

import "context"

// An ack gate lets a transport hold its acknowledgement to the platform
// until what a click asked for is in the store. Slack and Discord treat an
// acknowledged interaction as delivered: a vote acked and then lost to a
// crash is a vote the approver believes they cast. So the transport puts a
// release func in the context it hands the engine, waits for it (within
// the platform's ack deadline), and only then acknowledges; the engine
// releases as soon as the vote is recorded, or when it has finished
// handling the click, whichever comes first.

type ackGateKey struct{}

// WithAckGate returns ctx carrying release, which the engine calls once
// the request's effect is durable. release must be safe to call more than
// once.
func WithAckGate(ctx context.Context, release func()) context.Context {
	return context.WithValue(ctx, ackGateKey{}, release)
}

// OpenAckGate calls the release func of ctx's ack gate, if there is one.
func OpenAckGate(ctx context.Context) {
	if f, ok := ctx.Value(ackGateKey{}).(func()); ok {
		f()
	}
}
