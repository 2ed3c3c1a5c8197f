package aws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/opensearch"
	ostypes "github.com/aws/aws-sdk-go-v2/service/opensearch/types"

	"github.com/day2bot/day2bot/internal/errs"
	"github.com/day2bot/day2bot/tasks"
)

// OpenSearchAPI is the part of the OpenSearch Service configuration API
// the opensearch.* actions call.
type OpenSearchAPI interface {
	ListDomainNames(context.Context, *opensearch.ListDomainNamesInput, ...func(*opensearch.Options)) (*opensearch.ListDomainNamesOutput, error)
	DescribeDomain(context.Context, *opensearch.DescribeDomainInput, ...func(*opensearch.Options)) (*opensearch.DescribeDomainOutput, error)
	ListTags(context.Context, *opensearch.ListTagsInput, ...func(*opensearch.Options)) (*opensearch.ListTagsOutput, error)
	DescribeDomainHealth(context.Context, *opensearch.DescribeDomainHealthInput, ...func(*opensearch.Options)) (*opensearch.DescribeDomainHealthOutput, error)
	UpdateDomainConfig(context.Context, *opensearch.UpdateDomainConfigInput, ...func(*opensearch.Options)) (*opensearch.UpdateDomainConfigOutput, error)
	DescribeDomainChangeProgress(context.Context, *opensearch.DescribeDomainChangeProgressInput, ...func(*opensearch.Options)) (*opensearch.DescribeDomainChangeProgressOutput, error)
}

// DomainAPI calls a domain's own REST API (manual snapshots are not part
// of the configuration API): a SigV4-signed request for "es" to the
// domain's endpoint.
type DomainAPI interface {
	Do(ctx context.Context, method, endpoint, path string, body []byte) (status int, resp []byte, err error)
}

var _ OpenSearchAPI = (*opensearch.Client)(nil)

// OpenSearchClient builds the clients for one invocation's config.
type OpenSearchClient func(awssdk.Config) (OpenSearchAPI, MetricDataAPI, DomainAPI)

// SDKOpenSearch is the production OpenSearchClient.
func SDKOpenSearch(cfg awssdk.Config) (OpenSearchAPI, MetricDataAPI, DomainAPI) {
	return opensearch.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg), sigv4Domain{cfg: cfg}
}

// sigv4Domain signs domain requests with the invocation's credentials.
// With an endpoint override (an emulator, a proxy) the request goes to
// the override and names the domain in its Host header.
type sigv4Domain struct{ cfg awssdk.Config }

func (d sigv4Domain) Do(ctx context.Context, method, endpoint, path string, body []byte) (int, []byte, error) {
	url := "https://" + endpoint + path
	if d.cfg.BaseEndpoint != nil {
		url = strings.TrimSuffix(*d.cfg.BaseEndpoint, "/") + path
	}
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("build request %s %s: %w", method, path, err)
	}
	req.Host = endpoint
	req.Header.Set("Content-Type", "application/json")
	creds, err := d.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("retrieve credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "es", d.cfg.Region, time.Now()); err != nil {
		return 0, nil, fmt.Errorf("sign request %s %s: %w", method, path, err)
	}
	client := d.cfg.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("read %s %s: %w", method, path, err)
	}
	return resp.StatusCode, b, nil
}

// OpenSearchActions returns the opensearch.* actions.
func OpenSearchActions(newClient OpenSearchClient, pace Pace) []tasks.Action {
	read := []string{"es:ListDomainNames", "es:DescribeDomain", "es:ListTags"}
	return forTarget("opensearch:domain",
		&stepAction{
			name: "opensearch.describe", verb: "described", noun: "domains",
			iam: append(slices.Clone(read), "es:DescribeDomainHealth", "cloudwatch:GetMetricData"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, cw, _ := newClient(inv.AWS)
				return domainPlan(ctx, c, inv, "describe", func(d osDomain) decision {
					return decision{Run: func(ctx context.Context) (string, error) { return describeDomain(ctx, c, cw, d, inv.Now) }}
				})
			},
		},
		&stepAction{
			name: "opensearch.snapshot", mutating: true, verb: "snapshotted", noun: "domains",
			iam: append(slices.Clone(read), "es:ESHttpGet", "es:ESHttpPut"),
			params: []tasks.Param{
				{Name: "repository", Type: tasks.TypeString, Default: "snapshots", Pattern: `^[a-z0-9][a-z0-9_-]{0,63}$`,
					Format: "1 to 64 lowercase letters, digits, dashes or underscores", Description: "the snapshot repository registered on the domain"},
				{Name: "label", Type: tasks.TypeString, Default: "manual", Pattern: `^[a-z0-9-]{1,40}$`,
					Format: "1 to 40 lowercase letters, digits or dashes", Description: "label in the snapshot's name (DOMAIN-LABEL-TIME)"},
			},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return snapshotDomainPlan(ctx, newClient, inv)
			},
		},
		&stepAction{
			name: "opensearch.set-data-nodes", mutating: true, verb: "resized", noun: "domains",
			iam: append(slices.Clone(read), "es:UpdateDomainConfig", "es:DescribeDomainChangeProgress"),
			params: []tasks.Param{
				{Name: "count", Type: tasks.TypeInt, Required: true, Min: bound(1), Max: bound(80), Description: "data nodes the domain should have"},
				{Name: "wait", Type: tasks.TypeDuration, Default: "1h", Min: bound(300), Max: bound(6 * 3600), Description: "longest wait for the blue/green change to finish"},
			},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return setDataNodesPlan(ctx, newClient, pace, inv)
			},
		},
	)
}

// osDomain is what the actions read of a domain.
type osDomain struct {
	name, arn, endpoint, version, itype string
	nodes, azs                          int
	processing                          bool
	volume                              int32
	volumeType                          string
}

func (d osDomain) capacity() string {
	s := fmt.Sprintf("%d data nodes %s", d.nodes, d.itype)
	if d.azs > 1 {
		s += fmt.Sprintf(" in %d AZs", d.azs)
	}
	return s
}

// selectDomains lists the account's domains and keeps those whose tags,
// as the service reports them, are the app's.
func selectDomains(ctx context.Context, c OpenSearchAPI, sel tasks.Selector) ([]osDomain, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	names, err := c.ListDomainNames(ctx, &opensearch.ListDomainNamesInput{})
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	var out []osDomain
	for _, n := range names.DomainNames {
		name := awssdk.ToString(n.DomainName)
		if !selects(tasks.Selector{IDs: sel.IDs, Names: sel.Names}, name, "", nil) {
			continue
		}
		desc, err := c.DescribeDomain(ctx, &opensearch.DescribeDomainInput{DomainName: awssdk.String(name)})
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("describe domain %s: %w", name, err)
		}
		st := desc.DomainStatus
		tags, err := c.ListTags(ctx, &opensearch.ListTagsInput{ARN: st.ARN})
		if err != nil {
			return nil, fmt.Errorf("list tags of domain %s: %w", name, err)
		}
		m := map[string]string{}
		for _, t := range tags.TagList {
			m[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
		}
		if !selects(sel, name, awssdk.ToString(st.ARN), m) {
			continue
		}
		d := osDomain{name: name, arn: awssdk.ToString(st.ARN), endpoint: awssdk.ToString(st.Endpoint), version: awssdk.ToString(st.EngineVersion),
			processing: awssdk.ToBool(st.Processing), azs: 1}
		if cc := st.ClusterConfig; cc != nil {
			d.nodes, d.itype = int(awssdk.ToInt32(cc.InstanceCount)), string(cc.InstanceType)
			if awssdk.ToBool(cc.ZoneAwarenessEnabled) && cc.ZoneAwarenessConfig != nil {
				d.azs = int(awssdk.ToInt32(cc.ZoneAwarenessConfig.AvailabilityZoneCount))
			}
		}
		if e := st.EBSOptions; e != nil {
			d.volume, d.volumeType = awssdk.ToInt32(e.VolumeSize), string(e.VolumeType)
		}
		out = append(out, d)
	}
	return out, nil
}

func domainPlan(ctx context.Context, c OpenSearchAPI, inv tasks.Invocation, verb string, decide func(osDomain) decision) (tasks.Plan, []step, error) {
	ds, err := selectDomains(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: verb, noun: "domains"}
	for _, d := range ds {
		b.add(d.name, d.capacity(), decide(d))
	}
	return b.plan(), b.steps, nil
}

func describeDomain(ctx context.Context, c OpenSearchAPI, cw MetricDataAPI, d osDomain, now time.Time) (string, error) {
	h, err := c.DescribeDomainHealth(ctx, &opensearch.DescribeDomainHealthInput{DomainName: awssdk.String(d.name)})
	if err != nil {
		return "", fmt.Errorf("describe health of %s: %w", d.name, err)
	}
	parts := []string{d.version, string(h.ClusterHealth), d.capacity(),
		fmt.Sprintf("%s master-eligible", awssdk.ToString(h.MasterEligibleNodeCount)),
		fmt.Sprintf("%s shards, %s unassigned", awssdk.ToString(h.TotalShards), awssdk.ToString(h.TotalUnAssignedShards))}
	if d.volume > 0 {
		parts = append(parts, fmt.Sprintf("%d GiB %s per node", d.volume, d.volumeType))
	}
	free, err := freeStorage(ctx, cw, d, now)
	if err != nil {
		return "", err
	}
	parts = append(parts, free)
	if d.processing {
		parts = append(parts, "a configuration change is in progress")
	}
	return strings.Join(parts, "; "), nil
}

// freeStorage is the domain's lowest free storage over the last hour
// (CloudWatch's FreeStorageSpace, in MiB, per domain and account).
func freeStorage(ctx context.Context, cw MetricDataAPI, d osDomain, now time.Time) (string, error) {
	account := ""
	if parts := strings.Split(d.arn, ":"); len(parts) > 4 {
		account = parts[4]
	}
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: awssdk.Time(now.Add(-time.Hour)), EndTime: awssdk.Time(now),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: awssdk.String("free"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: awssdk.String("AWS/ES"), MetricName: awssdk.String("FreeStorageSpace"),
				Dimensions: []cwtypes.Dimension{{Name: awssdk.String("DomainName"), Value: awssdk.String(d.name)}, {Name: awssdk.String("ClientId"), Value: awssdk.String(account)}}},
			Period: awssdk.Int32(3600), Stat: awssdk.String("Minimum")}}},
	})
	if err != nil {
		return "", fmt.Errorf("get free storage of %s: %w", d.name, err)
	}
	for _, r := range out.MetricDataResults {
		if len(r.Values) > 0 {
			return fmt.Sprintf("free storage %.1f GiB (lowest node, last hour)", slices.Min(r.Values)/1024), nil
		}
	}
	return "free storage: no data", nil
}

func snapshotDomainPlan(ctx context.Context, newClient OpenSearchClient, inv tasks.Invocation) (tasks.Plan, []step, error) {
	c, _, dom := newClient(inv.AWS)
	repo, err := stringValue(inv.Values, "repository", "snapshots")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	label, err := stringValue(inv.Values, "label", "manual")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	ds, err := selectDomains(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: "take a manual snapshot of", noun: "domains"}
	for _, d := range ds {
		status, body, err := dom.Do(ctx, http.MethodGet, d.endpoint, "/_snapshot/"+repo, nil)
		if err != nil {
			return tasks.Plan{}, nil, err
		}
		switch {
		case status == http.StatusNotFound:
			b.add(d.name, "", decision{Skip: fmt.Sprintf("no snapshot repository %s is registered on the domain (docs/library.md says how to register one)", repo)})
			continue
		case status != http.StatusOK:
			return tasks.Plan{}, nil, domainError(d.name, "GET /_snapshot/"+repo, status, body)
		}
		name := strings.ToLower(d.name + "-" + label + "-" + inv.Now.UTC().Format("20060102-1504"))
		b.add(d.name, "snapshot "+name+" in "+repo, decision{Run: func(ctx context.Context) (string, error) {
			status, body, err := dom.Do(ctx, http.MethodPut, d.endpoint, "/_snapshot/"+repo+"/"+name, nil)
			if err != nil {
				return "", err
			}
			if status != http.StatusOK {
				return "", domainError(d.name, "PUT /_snapshot/"+repo+"/"+name, status, body)
			}
			return "snapshot " + name + " started in " + repo, nil
		}})
	}
	return b.plan(), b.steps, nil
}

// domainError is a domain's REST API refusal, with its status and body.
func domainError(domain, call string, status int, body []byte) error {
	msg := strings.TrimSpace(string(body))
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return errs.E(call, statusKind(status), "%s on domain %s: HTTP %d: %s", call, domain, status, msg)
}

func setDataNodesPlan(ctx context.Context, newClient OpenSearchClient, pace Pace, inv tasks.Invocation) (tasks.Plan, []step, error) {
	c, _, _ := newClient(inv.AWS)
	n, err := intValue(inv.Values, "count", 0)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	wait, err := durationValue(inv.Values, "wait", time.Hour)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	return domainPlan(ctx, c, inv, fmt.Sprintf("set %d data nodes (blue/green)", n), func(d osDomain) decision {
		switch {
		case d.nodes == n:
			return decision{Skip: fmt.Sprintf("already has %d data nodes", n)}
		case d.processing:
			return decision{Skip: "a configuration change is already in progress"}
		case n%d.azs != 0:
			return decision{Skip: fmt.Sprintf("the domain spans %d AZs: the data-node count must be a multiple of %d", d.azs, d.azs)}
		}
		return decision{Run: func(ctx context.Context) (string, error) {
			out, err := c.UpdateDomainConfig(ctx, &opensearch.UpdateDomainConfigInput{DomainName: awssdk.String(d.name),
				ClusterConfig: &ostypes.ClusterConfig{InstanceCount: awssdk.Int32(int32(n))}})
			if err != nil {
				return "", err
			}
			id := ""
			if p := out.DomainConfig.ChangeProgressDetails; p != nil {
				id = awssdk.ToString(p.ChangeId)
			}
			if err := followChange(ctx, c, pace, d.name, id, wait); err != nil {
				return "", err
			}
			return fmt.Sprintf("%d -> %d data nodes (blue/green change %s completed)", d.nodes, n, id), nil
		}}
	})
}

// followChange polls a blue/green change until it completes, reporting its
// stage; a failed change, or one still running after wait, is an error
// that names the change so it can be followed in AWS.
func followChange(ctx context.Context, c OpenSearchAPI, pace Pace, domain, id string, wait time.Duration) error {
	show := stepProgress(ctx)
	show("blue/green change " + id + " started")
	check := func(ctx context.Context) ([]string, error) {
		out, err := c.DescribeDomainChangeProgress(ctx, &opensearch.DescribeDomainChangeProgressInput{DomainName: awssdk.String(domain), ChangeId: awssdk.String(id)})
		if err != nil {
			return nil, fmt.Errorf("describe change progress of %s: %w", domain, err)
		}
		p := out.ChangeProgressStatus
		switch p.Status {
		case ostypes.OverallChangeStatusCompleted:
			return nil, nil
		case ostypes.OverallChangeStatusFailed:
			return nil, errs.E("change data nodes", errs.Conflict, "blue/green change %s of %s failed", id, domain)
		}
		stage := "pending"
		for i, s := range p.ChangeProgressStages {
			if st := awssdk.ToString(s.Status); st == "IN_PROGRESS" || st == "PROCESSING" {
				stage = fmt.Sprintf("stage %d of %d: %s", i+1, p.TotalNumberOfStages, awssdk.ToString(s.Name))
				break
			}
		}
		show("blue/green change " + id + " " + stage)
		return []string{stage}, nil
	}
	err := pace.waitBack(ctx, wait, 1, 1, check, nil)
	var nb *NotBackError
	if errors.As(err, &nb) {
		return errs.Wrap("change data nodes", errs.Conflict, err, "blue/green change %s is still in progress after %s; AWS carries on with it (describe-domains shows the node count)", id, tasks.FormatDuration(wait))
	}
	return err
}
