package tasks

import "context"

// Chooser is implemented by actions that can list, from live AWS data, the
// values a parameter may take: the app's buckets for "bucket", its alarms
// for "alarm". Completion (Discord autocomplete, Slack selects) offers
// them; the command is still validated and checked in full when it runs,
// so a choice is a convenience, never a permission.
type Chooser interface {
	// Choosable reports whether Choices can list values of param.
	Choosable(param string) bool
	// Choices lists the values of param among the resources inv.Target
	// selects (inv.Values is empty). It reads only.
	Choices(ctx context.Context, inv Invocation, param string) ([]Choice, error)
}

// Choice is one value offered for a parameter.
type Choice struct {
	Value string // what the command carries, e.g. a bucket name
	Label string // what people read, e.g. "i-0abc (web-1)"; "" means Value
}

// Text is what a list shows for c.
func (c Choice) Text() string {
	if c.Label == "" {
		return c.Value
	}
	return c.Label
}
