package aws

import (
	"context"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/day2bot/day2bot/tasks"
)

// Members lists the resources sel selects, for readers outside the tasks
// (a digest's health metrics), with the selection code the tasks use, so
// the two never disagree about what an app owns. The ids are the values of
// the type's CloudWatch dimension: names, ARNs for state machines, and for
// a Redis replication group its member clusters (the nodes: ElastiCache
// publishes per CacheClusterId).
// known is false for a type Members does not list. Its calls are the
// selection reads every task on that type declares, so an app whose
// blueprint has such a task already allows them.
func Members(ctx context.Context, cfg awssdk.Config, sel tasks.Selector) (ids []string, known bool, err error) {
	switch sel.Type {
	case "sqs:queue":
		c, _ := SDKSQS(cfg)
		qs, err := selectQueues(ctx, c, sel)
		for _, q := range qs {
			ids = append(ids, q.name)
		}
		return ids, true, err
	case "kinesis:stream":
		c, _ := SDKKinesis(cfg)
		ss, err := selectStreams(ctx, c, sel)
		for _, s := range ss {
			ids = append(ids, s.name)
		}
		return ids, true, err
	case "lambda:function":
		c, _ := SDKLambda(cfg)
		fs, err := selectFunctions(ctx, c, sel)
		for _, f := range fs {
			ids = append(ids, f.name)
		}
		return ids, true, err
	case "sfn:state-machine":
		ms, err := selectStateMachines(ctx, SDKSFN(cfg), sel)
		for _, m := range ms {
			ids = append(ids, awssdk.ToString(m.StateMachineArn))
		}
		return ids, true, err
	case ecType:
		gs, err := selectRedis(ctx, SDKElastiCache(cfg), sel)
		for _, g := range gs {
			ids = append(ids, g.MemberClusters...)
		}
		return ids, true, err
	case "ecr:repository":
		rs, err := selectRepositories(ctx, SDKECR(cfg), sel)
		for _, r := range rs {
			ids = append(ids, awssdk.ToString(r.RepositoryName))
		}
		return ids, true, err
	}
	return nil, false, nil
}
