package awsclient

import (
	"cmp"
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Account says whose credentials an app's tasks use.
type Account struct {
	// RoleARN is assumed with the principal as SourceIdentity; empty means
	// the default credential chain's own identity.
	RoleARN    string
	ExternalID string
}

// Options configure a Provider. The zero value is production: AWS
// endpoints, adaptive retries, a cache of 1024 sessions.
type Options struct {
	// EndpointURL points every client at one endpoint (the sandbox's
	// emulator); empty means AWS (or AWS_ENDPOINT_URL, which the SDK reads
	// itself).
	EndpointURL string
	Retry       RetryOptions
	// MaxSessions bounds the credentials cache; the least recently used
	// (role, principal) session is dropped first. 0 means 1024.
	MaxSessions int
	// CallTimeout bounds one HTTP attempt of any AWS call, from dial to
	// the end of the response body; 0 means DefaultCallTimeout. An
	// endpoint that accepts and never answers then costs MaxAttempts ×
	// CallTimeout, not the run's whole timeout. Cancelling the call's
	// context (cancel, Ctrl-C, shutdown) ends it at once either way.
	CallTimeout time.Duration
}

// DefaultCallTimeout is generous for day2bot's calls: they are control-plane
// requests with small bodies; the slowest seen (CloudFormation
// DescribeStackEvents, S3 ListObjectVersions of a full page) answer in
// well under 10 s.
const DefaultCallTimeout = 30 * time.Second

// Provider hands out aws.Configs for (account, region, principal). Every
// config shares one retryer and one HTTP client, so throttling and
// connection reuse are process-wide; assumed-role credentials are cached
// per (role, external id, principal) and refreshed before they expire.
//
// Actions build their SDK clients from the returned config per invocation
// (a client costs ~16µs to build); everything worth reusing across clients
// of a region — connections, the retry budget, credentials — lives in the
// config and is shared that way.
type Provider struct {
	base aws.Config
	max  int

	mu       sync.Mutex
	sessions map[sessionKey]*list.Element // of *session
	lru      *list.List                   // front = most recently used
}

type sessionKey struct{ role, externalID, identity string }

type session struct {
	key   sessionKey
	creds *aws.CredentialsCache
}

// New loads the default config (env, shared files, IMDS/ECS/SSO...).
func New(ctx context.Context, o Options) (*Provider, error) {
	base, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	return NewFromConfig(base, o), nil
}

// NewFromConfig builds a provider on an already loaded base config (tests
// pass static credentials).
func NewFromConfig(base aws.Config, o Options) *Provider {
	base = base.Copy()
	if o.EndpointURL != "" {
		base.BaseEndpoint = aws.String(o.EndpointURL)
	}
	if o.Retry.MaxAttempts == 0 && o.Retry.Backoff == nil {
		o.Retry.Adaptive = true
	}
	retryer := NewRetryer(o.Retry)
	base.Retryer = func() aws.Retryer { return retryer }
	if base.HTTPClient == nil {
		// The SDK's own client, with a deadline per attempt; a timed-out
		// attempt is retried by the shared retryer like any transient
		// connection error.
		base.HTTPClient = awshttp.NewBuildableClient().WithTimeout(cmp.Or(o.CallTimeout, DefaultCallTimeout))
	}
	base.HTTPClient = BufferRequestBodies(base.HTTPClient)
	if o.MaxSessions <= 0 {
		o.MaxSessions = 1024
	}
	return &Provider{base: base, max: o.MaxSessions, sessions: map[sessionKey]*list.Element{}, lru: list.New()}
}

// Config returns the config for one call made on behalf of principal
// ("slack:U123", "day2bot:scheduler"). Without a role it is the base
// identity in region; with one, credentials come from AssumeRole with
// RoleSessionName and SourceIdentity both set to the encoded principal, so
// CloudTrail names who asked. The STS call happens lazily, on first use.
func (p *Provider) Config(ctx context.Context, acct Account, region, principal string) (aws.Config, error) {
	id, err := EncodeIdentity(principal)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config for %s: %w", acct.RoleARN, err)
	}
	if err := ValidateIdentity(id); err != nil {
		return aws.Config{}, fmt.Errorf("aws config for %s: %w", acct.RoleARN, err)
	}
	cfg := p.base.Copy()
	if region != "" {
		cfg.Region = region
	}
	if acct.RoleARN == "" {
		return cfg, nil
	}
	cfg.Credentials = p.session(sessionKey{acct.RoleARN, acct.ExternalID, id}, cfg.Region)
	return cfg, nil
}

// session returns the cached credentials for k, creating them (and
// evicting the least recently used) as needed.
func (p *Provider) session(k sessionKey, region string) *aws.CredentialsCache {
	p.mu.Lock()
	defer p.mu.Unlock()
	if el, ok := p.sessions[k]; ok {
		p.lru.MoveToFront(el)
		return el.Value.(*session).creds
	}
	stsCfg := p.base.Copy()
	if stsCfg.Region == "" {
		stsCfg.Region = region
	}
	// SourceIdentity sticks to the session and through role chaining; the
	// role's trust policy must allow sts:SetSourceIdentity.
	prov := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(stsCfg), k.role, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = k.identity
		o.SourceIdentity = aws.String(k.identity)
		if k.externalID != "" {
			o.ExternalID = aws.String(k.externalID)
		}
	})
	s := &session{key: k, creds: aws.NewCredentialsCache(prov)}
	p.sessions[k] = p.lru.PushFront(s)
	for p.lru.Len() > p.max {
		old := p.lru.Back()
		p.lru.Remove(old)
		delete(p.sessions, old.Value.(*session).key)
	}
	return s.creds
}

// ByRole serves callers that know an app's account only by its role ARN,
// like the engine's AWSProvider: the external id, if any, is looked up by
// role.
type ByRole struct {
	Provider    *Provider
	ExternalIDs map[string]string // role ARN → external id
}

// Config is Provider.Config for Account{roleARN, ExternalIDs[roleARN]}.
func (b ByRole) Config(ctx context.Context, roleARN, region, principal string) (aws.Config, error) {
	return b.Provider.Config(ctx, Account{RoleARN: roleARN, ExternalID: b.ExternalIDs[roleARN]}, region, principal)
}
