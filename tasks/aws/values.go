package aws

import (
	"fmt"
	"strconv"
	"time"

	"github.com/day2bot/day2bot/tasks"
)

// Parameter values reach actions already validated (tasks.ParseValues:
// int → int64, bool → bool, duration → time.Duration, string/enum →
// string). These read them with the action's own default as fallback, so
// an action invoked without the engine (tests, follow-ups) behaves the same.

// intValue reads an int parameter.
func intValue(v tasks.Values, name string, def int) (int, error) {
	switch x := v[name].(type) {
	case nil:
		return def, nil
	case int64:
		return int(x), nil
	case int:
		return x, nil
	case string:
		n, err := strconv.Atoi(x)
		if err != nil {
			return 0, fmt.Errorf("read parameter %s: %w", name, err)
		}
		return n, nil
	default:
		return 0, fmt.Errorf("read parameter %s: want int, got %T", name, x)
	}
}

// boolValue reads a bool parameter.
func boolValue(v tasks.Values, name string, def bool) (bool, error) {
	switch x := v[name].(type) {
	case nil:
		return def, nil
	case bool:
		return x, nil
	default:
		return false, fmt.Errorf("read parameter %s: want bool, got %T", name, x)
	}
}

// stringValue reads a string or enum parameter.
func stringValue(v tasks.Values, name, def string) (string, error) {
	switch x := v[name].(type) {
	case nil:
		return def, nil
	case string:
		return x, nil
	default:
		return "", fmt.Errorf("read parameter %s: want string, got %T", name, x)
	}
}

// durationValue reads a duration parameter.
func durationValue(v tasks.Values, name string, def time.Duration) (time.Duration, error) {
	switch x := v[name].(type) {
	case nil:
		return def, nil
	case time.Duration:
		return x, nil
	default:
		return 0, fmt.Errorf("read parameter %s: want duration, got %T", name, x)
	}
}

// bound is a parameter bound literal.
func bound(f float64) *float64 { return &f }
