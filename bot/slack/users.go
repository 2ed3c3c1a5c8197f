package slack

import (
	"cmp"
	"context"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// userInfoMaxWait is the longest Retry-After of users.info worth waiting
// for, once: the command waits for its name before it reaches the engine,
// and the payload's name is a fine fallback.
const userInfoMaxWait = 2 * time.Second

// displayName resolves a user's display name with users.info, cached;
// fallback is used when Slack cannot be asked. Names are for messages
// only, never for policy.
func (a *Adapter) displayName(ctx context.Context, userID, fallback string) string {
	if name, ok := a.users.get(userID, a.now()); ok {
		return name
	}
	var u *slack.User
	r := a.retry("users.info")
	r.tries, r.maxWait = 2, userInfoMaxWait
	err := r.untilNotLimited(ctx, func(ctx context.Context) error {
		var err error
		u, err = a.api.GetUserInfoContext(ctx, userID)
		return a.apiErr("users.info", err)
	})
	if err != nil {
		a.log.WarnContext(ctx, "slack users.info", "user", userID, "err", err)
		return cmp.Or(fallback, userID)
	}
	name := cmp.Or(u.Profile.DisplayName, u.Profile.RealName, u.RealName, u.Name, fallback, userID)
	a.users.put(userID, name, a.now())
	return name
}

// userCache keeps display names for a while; it is bounded by clearing
// itself when full, which costs one users.info per user afterwards.
type userCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]cachedUser
}

type cachedUser struct {
	name    string
	expires time.Time
}

const maxCachedUsers = 10000

func newUserCache(ttl time.Duration) *userCache {
	return &userCache{ttl: ttl, m: map[string]cachedUser{}}
}

func (c *userCache) get(id string, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.m[id]
	if !ok || now.After(u.expires) {
		return "", false
	}
	return u.name, true
}

func (c *userCache) put(id, name string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedUsers {
		clear(c.m)
	}
	c.m[id] = cachedUser{name: name, expires: now.Add(c.ttl)}
}
