package aws

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/day2bot/day2bot/tasks"
)

// LambdaAPI is the part of the Lambda API the lambda.* actions call.
type LambdaAPI interface {
	ListFunctions(context.Context, *lambda.ListFunctionsInput, ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error)
	GetFunction(context.Context, *lambda.GetFunctionInput, ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
	ListVersionsByFunction(context.Context, *lambda.ListVersionsByFunctionInput, ...func(*lambda.Options)) (*lambda.ListVersionsByFunctionOutput, error)
	ListAliases(context.Context, *lambda.ListAliasesInput, ...func(*lambda.Options)) (*lambda.ListAliasesOutput, error)
	ListProvisionedConcurrencyConfigs(context.Context, *lambda.ListProvisionedConcurrencyConfigsInput, ...func(*lambda.Options)) (*lambda.ListProvisionedConcurrencyConfigsOutput, error)
	UpdateAlias(context.Context, *lambda.UpdateAliasInput, ...func(*lambda.Options)) (*lambda.UpdateAliasOutput, error)
	PutFunctionConcurrency(context.Context, *lambda.PutFunctionConcurrencyInput, ...func(*lambda.Options)) (*lambda.PutFunctionConcurrencyOutput, error)
	DeleteFunctionConcurrency(context.Context, *lambda.DeleteFunctionConcurrencyInput, ...func(*lambda.Options)) (*lambda.DeleteFunctionConcurrencyOutput, error)
}

// MetricDataAPI reads CloudWatch metrics (the functions' errors and
// latency).
type MetricDataAPI interface {
	GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

var (
	_ LambdaAPI     = (*lambda.Client)(nil)
	_ MetricDataAPI = (*cloudwatch.Client)(nil)
)

// LambdaClient builds the clients for one invocation's config.
type LambdaClient func(awssdk.Config) (LambdaAPI, MetricDataAPI)

// SDKLambda is the production LambdaClient.
func SDKLambda(cfg awssdk.Config) (LambdaAPI, MetricDataAPI) {
	return lambda.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg)
}

var aliasParam = tasks.Param{Name: "alias", Type: tasks.TypeString, Required: true, Pattern: `^[a-zA-Z][a-zA-Z0-9_-]{0,63}$`,
	Format: "an alias name: a letter, then up to 63 letters, digits, dashes or underscores", Description: "the alias that callers invoke, e.g. live"}

// LambdaActions returns the lambda.* actions.
func LambdaActions(newClient LambdaClient) []tasks.Action {
	read := []string{"lambda:ListFunctions", "lambda:GetFunction"}
	return withChoices("version", func(ctx context.Context, inv tasks.Invocation) ([]tasks.Choice, error) {
		c, _ := newClient(inv.AWS)
		return versionChoices(ctx, c, inv.Target)
	}, forTarget("lambda:function",
		&stepAction{
			name: "lambda.describe", verb: "described", noun: "functions",
			iam: append(slices.Clone(read), "lambda:ListVersionsByFunction", "lambda:ListAliases", "lambda:ListProvisionedConcurrencyConfigs", "cloudwatch:GetMetricData"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, cw := newClient(inv.AWS)
				return functionPlan(ctx, c, inv, "describe", func(f lambdaFn) decision {
					return decision{Run: func(ctx context.Context) (string, error) { return describeFunction(ctx, c, cw, f, inv.Now) }}
				})
			},
		},
		&stepAction{
			name: "lambda.metrics", verb: "measured", noun: "functions",
			iam: append(slices.Clone(read), "cloudwatch:GetMetricData"),
			params: []tasks.Param{{Name: "window", Type: tasks.TypeDuration, Default: "1h", Min: bound(300), Max: bound(86400),
				Description: "how far back to look"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, cw := newClient(inv.AWS)
				window, err := durationValue(inv.Values, "window", time.Hour)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				return functionPlan(ctx, c, inv, "read metrics of", func(f lambdaFn) decision {
					return decision{Run: func(ctx context.Context) (string, error) {
						m, err := functionMetrics(ctx, cw, f.name, inv.Now, window)
						if err != nil {
							return "", err
						}
						return fmt.Sprintf("last %s: %s", window, m), nil
					}}
				})
			},
		},
		&stepAction{
			name: "lambda.set-concurrency", mutating: true, verb: "set concurrency of", noun: "functions",
			iam: append(slices.Clone(read), "lambda:PutFunctionConcurrency"),
			params: []tasks.Param{{Name: "reserved", Type: tasks.TypeInt, Required: true, Min: bound(0), Max: bound(1000),
				Description: "concurrent executions reserved for the function; 0 throttles every invocation"}},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, _ := newClient(inv.AWS)
				n, err := intValue(inv.Values, "reserved", 0)
				if err != nil {
					return tasks.Plan{}, nil, err
				}
				verb := fmt.Sprintf("reserve %d", n)
				if n == 0 {
					verb = "throttle (reserve 0)"
				}
				return functionPlan(ctx, c, inv, verb, func(f lambdaFn) decision {
					if f.reserved != nil && int(*f.reserved) == n {
						return decision{Skip: fmt.Sprintf("already reserves %d", n)}
					}
					return decision{Detail: "now " + reservedText(f.reserved), Run: func(ctx context.Context) (string, error) {
						out, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: awssdk.String(f.name), ReservedConcurrentExecutions: awssdk.Int32(int32(n))})
						if err != nil {
							return "", err
						}
						detail := reservedText(f.reserved) + " -> " + reservedText(out.ReservedConcurrentExecutions)
						if n == 0 {
							detail += ": every invocation is throttled until clear-concurrency or a new value"
						}
						return detail, nil
					}}
				})
			},
		},
		&stepAction{
			name: "lambda.clear-concurrency", mutating: true, verb: "cleared concurrency of", noun: "functions",
			iam: append(slices.Clone(read), "lambda:DeleteFunctionConcurrency"),
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				c, _ := newClient(inv.AWS)
				return functionPlan(ctx, c, inv, "clear reserved concurrency", func(f lambdaFn) decision {
					if f.reserved == nil {
						return decision{Skip: "reserves nothing"}
					}
					return decision{Detail: "now " + reservedText(f.reserved), Run: func(ctx context.Context) (string, error) {
						if _, err := c.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: awssdk.String(f.name)}); err != nil {
							return "", err
						}
						return reservedText(f.reserved) + " -> the account's unreserved pool", nil
					}}
				})
			},
		},
		&stepAction{
			name: "lambda.shift-alias", mutating: true, verb: "shifted", noun: "aliases",
			iam: append(slices.Clone(read), "lambda:ListVersionsByFunction", "lambda:ListAliases", "lambda:UpdateAlias"),
			params: []tasks.Param{aliasParam,
				{Name: "version", Type: tasks.TypeInt, Required: true, Min: bound(1), Max: bound(100000), Description: "the published version to send traffic to"},
				{Name: "weight", Type: tasks.TypeInt, Default: "100", Min: bound(1), Max: bound(100), Description: "percent of the alias's traffic the version gets; 100 moves the alias"},
			},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return shiftAliasPlan(ctx, inv, newClient)
			},
		},
		&stepAction{
			name: "lambda.rollback-alias", mutating: true, verb: "rolled back", noun: "aliases",
			iam:    append(slices.Clone(read), "lambda:ListVersionsByFunction", "lambda:ListAliases", "lambda:UpdateAlias"),
			params: []tasks.Param{aliasParam},
			plan: func(ctx context.Context, inv tasks.Invocation) (tasks.Plan, []step, error) {
				return rollbackAliasPlan(ctx, inv, newClient)
			},
		},
	))
}

// lambdaFn is what the actions read of a function.
// versionChoices are the published versions of the selected functions,
// newest first, labelled with their function when there are several.
func versionChoices(ctx context.Context, c LambdaAPI, sel tasks.Selector) ([]tasks.Choice, error) {
	fns, err := selectFunctions(ctx, c, sel)
	if err != nil {
		return nil, err
	}
	var out []tasks.Choice
	seen := map[int]bool{}
	for _, f := range fns {
		versions, _, err := functionState(ctx, c, f.name)
		if err != nil {
			return nil, err
		}
		for i := len(versions) - 1; i >= 0; i-- {
			v := versions[i]
			label := strconv.Itoa(v) + " (" + f.name + ")"
			if seen[v] {
				continue // the same number in another function: one choice
			}
			seen[v] = true
			out = append(out, tasks.Choice{Value: strconv.Itoa(v), Label: label})
		}
	}
	return out, nil
}

type lambdaFn struct {
	name, arn, runtime string
	reserved           *int32
	tags               map[string]string
}

// selectFunctions lists the account's functions, keeps the candidates the
// ids and names allow, and reads each with GetFunction: its tags, as AWS
// reports them, decide whether it is the app's.
func selectFunctions(ctx context.Context, c LambdaAPI, sel tasks.Selector) ([]lambdaFn, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	var out []lambdaFn
	p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{MaxItems: awssdk.Int32(50)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list functions: %w", err)
		}
		for _, fc := range page.Functions {
			name, arn := awssdk.ToString(fc.FunctionName), awssdk.ToString(fc.FunctionArn)
			if !selects(tasks.Selector{IDs: sel.IDs, Names: sel.Names}, name, arn, nil) {
				continue
			}
			got, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: awssdk.String(name)})
			if isNotFound(err) {
				continue // deleted since the listing
			}
			if err != nil {
				return nil, fmt.Errorf("get function %s: %w", name, err)
			}
			if !selects(sel, name, arn, got.Tags) {
				continue
			}
			f := lambdaFn{name: name, arn: arn, runtime: string(fc.Runtime), tags: got.Tags}
			if got.Concurrency != nil {
				f.reserved = got.Concurrency.ReservedConcurrentExecutions
			}
			out = append(out, f)
		}
	}
	return out, nil
}

func functionPlan(ctx context.Context, c LambdaAPI, inv tasks.Invocation, verb string, decide func(lambdaFn) decision) (tasks.Plan, []step, error) {
	fns, err := selectFunctions(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: verb, noun: "functions"}
	for _, f := range fns {
		b.add(f.name, f.runtime+", "+reservedText(f.reserved), decide(f))
	}
	return b.plan(), b.steps, nil
}

func reservedText(n *int32) string {
	switch {
	case n == nil:
		return "no reserved concurrency"
	case *n == 0:
		return "reserved 0 (throttled)"
	}
	return fmt.Sprintf("reserved %d", *n)
}

// functionState reads a function's published versions (ascending) and
// aliases.
func functionState(ctx context.Context, c LambdaAPI, name string) ([]int, []lambdatypes.AliasConfiguration, error) {
	var versions []int
	vp := lambda.NewListVersionsByFunctionPaginator(c, &lambda.ListVersionsByFunctionInput{FunctionName: awssdk.String(name)})
	for vp.HasMorePages() {
		page, err := vp.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("list versions of %s: %w", name, err)
		}
		for _, v := range page.Versions {
			if n, err := strconv.Atoi(awssdk.ToString(v.Version)); err == nil { // skips $LATEST
				versions = append(versions, n)
			}
		}
	}
	sort.Ints(versions)
	var aliases []lambdatypes.AliasConfiguration
	ap := lambda.NewListAliasesPaginator(c, &lambda.ListAliasesInput{FunctionName: awssdk.String(name)})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("list aliases of %s: %w", name, err)
		}
		aliases = append(aliases, page.Aliases...)
	}
	return versions, aliases, nil
}

func aliasText(a lambdatypes.AliasConfiguration) string {
	s := awssdk.ToString(a.Name) + " -> " + awssdk.ToString(a.FunctionVersion)
	if a.RoutingConfig != nil {
		for _, v := range slices.Sorted(maps.Keys(a.RoutingConfig.AdditionalVersionWeights)) {
			s += fmt.Sprintf(" (%g%% to %s)", a.RoutingConfig.AdditionalVersionWeights[v]*100, v)
		}
	}
	return s
}

func describeFunction(ctx context.Context, c LambdaAPI, cw MetricDataAPI, f lambdaFn, now time.Time) (string, error) {
	versions, aliases, err := functionState(ctx, c, f.name)
	if err != nil {
		return "", err
	}
	parts := []string{fmt.Sprintf("%d versions", len(versions))}
	if len(versions) > 0 {
		parts[0] += fmt.Sprintf(" (latest %d)", versions[len(versions)-1])
	}
	var as []string
	for _, a := range aliases {
		as = append(as, aliasText(a))
	}
	if len(as) > 0 {
		parts = append(parts, "aliases "+strings.Join(as, ", "))
	}
	parts = append(parts, reservedText(f.reserved))
	pc, err := c.ListProvisionedConcurrencyConfigs(ctx, &lambda.ListProvisionedConcurrencyConfigsInput{FunctionName: awssdk.String(f.name)})
	if err != nil {
		return "", fmt.Errorf("list provisioned concurrency of %s: %w", f.name, err)
	}
	for _, p := range pc.ProvisionedConcurrencyConfigs {
		_, q, _ := strings.Cut(strings.TrimPrefix(awssdk.ToString(p.FunctionArn), f.arn), ":")
		parts = append(parts, fmt.Sprintf("provisioned %d on %s (%s)", awssdk.ToInt32(p.AllocatedProvisionedConcurrentExecutions), q, p.Status))
	}
	m, err := functionMetrics(ctx, cw, f.name, now, time.Hour)
	if err != nil {
		return "", err
	}
	return strings.Join(parts, "; ") + "; last hour: " + m, nil
}

// functionMetrics reads errors, throttles, invocations and p95 duration of
// one function over window in one GetMetricData call.
func functionMetrics(ctx context.Context, cw MetricDataAPI, name string, now time.Time, window time.Duration) (string, error) {
	period := int32(window / time.Second)
	q := func(id, metric, stat string) cwtypes.MetricDataQuery {
		return cwtypes.MetricDataQuery{Id: awssdk.String(id), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: awssdk.String("AWS/Lambda"), MetricName: awssdk.String(metric),
				Dimensions: []cwtypes.Dimension{{Name: awssdk.String("FunctionName"), Value: awssdk.String(name)}}},
			Period: awssdk.Int32(period), Stat: awssdk.String(stat)}}
	}
	out, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: awssdk.Time(now.Add(-window)), EndTime: awssdk.Time(now),
		MetricDataQueries: []cwtypes.MetricDataQuery{q("errors", "Errors", "Sum"), q("throttles", "Throttles", "Sum"),
			q("invocations", "Invocations", "Sum"), q("p95", "Duration", "p95")},
	})
	if err != nil {
		return "", fmt.Errorf("get metrics of %s: %w", name, err)
	}
	v := map[string]float64{}
	seen := map[string]bool{}
	for _, r := range out.MetricDataResults {
		id := awssdk.ToString(r.Id)
		for _, x := range r.Values {
			if id == "p95" {
				v[id] = max(v[id], x)
			} else {
				v[id] += x
			}
			seen[id] = true
		}
	}
	p95 := "no data"
	if seen["p95"] {
		p95 = fmt.Sprintf("%.0f ms", v["p95"])
	}
	return fmt.Sprintf("%.0f errors, %.0f throttles, %.0f invocations, duration p95 %s", v["errors"], v["throttles"], v["invocations"], p95), nil
}

// findAlias returns the named alias of a function.
func findAlias(aliases []lambdatypes.AliasConfiguration, name string) (lambdatypes.AliasConfiguration, bool) {
	i := slices.IndexFunc(aliases, func(a lambdatypes.AliasConfiguration) bool { return awssdk.ToString(a.Name) == name })
	if i < 0 {
		return lambdatypes.AliasConfiguration{}, false
	}
	return aliases[i], true
}

func shiftAliasPlan(ctx context.Context, inv tasks.Invocation, newClient LambdaClient) (tasks.Plan, []step, error) {
	c, _ := newClient(inv.AWS)
	alias, err := stringValue(inv.Values, "alias", "")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	version, err := intValue(inv.Values, "version", 0)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	weight, err := intValue(inv.Values, "weight", 100)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	target := strconv.Itoa(version)
	verb := fmt.Sprintf("send %d%% of %s to version %d", weight, alias, version)
	if weight == 100 {
		verb = fmt.Sprintf("point %s at version %d", alias, version)
	}
	fns, err := selectFunctions(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: verb, noun: "aliases"}
	for _, f := range fns {
		versions, aliases, err := functionState(ctx, c, f.name)
		if err != nil {
			return tasks.Plan{}, nil, err
		}
		a, ok := findAlias(aliases, alias)
		switch {
		case !ok:
			b.add(f.name, "", decision{Skip: "has no alias " + alias})
			continue
		case !slices.Contains(versions, version):
			b.add(f.name, aliasText(a), decision{Skip: fmt.Sprintf("has no published version %d", version)})
			continue
		case awssdk.ToString(a.FunctionVersion) == target && (weight == 100 || a.RoutingConfig == nil):
			b.add(f.name, aliasText(a), decision{Skip: alias + " already points at version " + target})
			continue
		}
		in := &lambda.UpdateAliasInput{FunctionName: awssdk.String(f.name), Name: awssdk.String(alias), RevisionId: a.RevisionId,
			RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}}
		if weight == 100 {
			in.FunctionVersion = awssdk.String(target)
		} else {
			in.RoutingConfig.AdditionalVersionWeights[target] = float64(weight) / 100
		}
		b.add(f.name, "now "+aliasText(a), decision{Run: func(ctx context.Context) (string, error) {
			out, err := c.UpdateAlias(ctx, in)
			if err != nil {
				return "", err
			}
			return "now " + aliasText(lambdatypes.AliasConfiguration{Name: out.Name, FunctionVersion: out.FunctionVersion, RoutingConfig: out.RoutingConfig}), nil
		}})
	}
	return b.plan(), b.steps, nil
}

// rollbackAliasPlan undoes the last shift of an alias: a weighted shift in
// progress loses its extra version (all traffic back on the primary); an
// alias without one moves to the newest published version older than the
// one it points at.
func rollbackAliasPlan(ctx context.Context, inv tasks.Invocation, newClient LambdaClient) (tasks.Plan, []step, error) {
	c, _ := newClient(inv.AWS)
	alias, err := stringValue(inv.Values, "alias", "")
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	fns, err := selectFunctions(ctx, c, inv.Target)
	if err != nil {
		return tasks.Plan{}, nil, err
	}
	b := planBuilder{verb: "roll back " + alias, noun: "aliases"}
	for _, f := range fns {
		versions, aliases, err := functionState(ctx, c, f.name)
		if err != nil {
			return tasks.Plan{}, nil, err
		}
		a, ok := findAlias(aliases, alias)
		if !ok {
			b.add(f.name, "", decision{Skip: "has no alias " + alias})
			continue
		}
		in := &lambda.UpdateAliasInput{FunctionName: awssdk.String(f.name), Name: awssdk.String(alias), RevisionId: a.RevisionId,
			RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}}
		action := "cancel the weighted shift: all traffic to " + awssdk.ToString(a.FunctionVersion)
		if a.RoutingConfig == nil || len(a.RoutingConfig.AdditionalVersionWeights) == 0 {
			cur, _ := strconv.Atoi(awssdk.ToString(a.FunctionVersion))
			prev := 0
			for _, v := range versions {
				if v < cur {
					prev = v
				}
			}
			if prev == 0 {
				b.add(f.name, aliasText(a), decision{Skip: "no published version older than " + awssdk.ToString(a.FunctionVersion)})
				continue
			}
			in.FunctionVersion = awssdk.String(strconv.Itoa(prev))
			action = fmt.Sprintf("point %s back at version %d", alias, prev)
		}
		b.add(f.name, "now "+aliasText(a), decision{Action: action, Run: func(ctx context.Context) (string, error) {
			out, err := c.UpdateAlias(ctx, in)
			if err != nil {
				return "", err
			}
			return "now " + aliasText(lambdatypes.AliasConfiguration{Name: out.Name, FunctionVersion: out.FunctionVersion, RoutingConfig: out.RoutingConfig}), nil
		}})
	}
	return b.plan(), b.steps, nil
}
