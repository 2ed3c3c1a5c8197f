package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The resource types a stack can hold, each created, updated, deleted and
// checked for drift through the emulator's own API with the SDK, signed as
// AKIDCLOUDFORMATION so a test can tell CloudFormation's calls apart.

type cfnClients struct {
	ec2 *ec2.Client
	rds *rds.Client
	s3  *s3.Client
	cw  *cloudwatch.Client
}

func (st *cfnState) clients() *cfnClients {
	cfg := st.srv.ClientConfig("us-east-1", "AKIDCLOUDFORMATION")
	return &cfnClients{ec2: ec2.NewFromConfig(cfg), rds: rds.NewFromConfig(cfg), cw: cloudwatch.NewFromConfig(cfg),
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })}
}

// cfnDiff is one drifted property.
type cfnDiff struct{ path, expected, actual string }

type cfnProvider struct {
	create func(ctx context.Context, c *cfnClients, s *cfnStack, r *cfnRes) error
	// update changes r in place; old is what it replaces.
	update func(ctx context.Context, c *cfnClients, s *cfnStack, r, old *cfnRes) error
	del    func(ctx context.Context, c *cfnClients, r *cfnRes) error
	// drift reads the resource back; deleted when it is gone.
	drift func(ctx context.Context, c *cfnClients, r *cfnRes) (diffs []cfnDiff, deleted bool, err error)
	// replaceOn are the properties whose change needs a new resource.
	replaceOn []string
}

var cfnProviders = map[string]*cfnProvider{
	"AWS::EC2::SecurityGroup": {create: createSecurityGroup, update: noUpdate, del: deleteSecurityGroup,
		replaceOn: []string{"GroupDescription", "GroupName", "VpcId"}},
	"AWS::EC2::Instance": {create: createInstance, update: updateInstance, del: deleteInstance, drift: instanceDrift,
		replaceOn: []string{"ImageId", "AvailabilityZone", "SubnetId", "KeyName", "SecurityGroups", "BlockDeviceMappings"}},
	"AWS::RDS::DBInstance": {create: createDB, update: updateDB, del: deleteDB, drift: dbDrift,
		replaceOn: []string{"DBInstanceIdentifier", "Engine", "StorageEncrypted", "KmsKeyId", "DBName", "MasterUsername", "AvailabilityZone"}},
	"AWS::S3::Bucket": {create: createBucket, update: noUpdate, del: deleteBucket, replaceOn: []string{"BucketName"}},
	"AWS::CloudWatch::Alarm": {create: putAlarm, update: func(ctx context.Context, c *cfnClients, s *cfnStack, r, _ *cfnRes) error {
		return putAlarm(ctx, c, s, r)
	}, del: deleteAlarm, drift: alarmDrift, replaceOn: []string{"AlarmName"}},
}

func noUpdate(context.Context, *cfnClients, *cfnStack, *cfnRes, *cfnRes) error { return nil }

func prop(r *cfnRes, k string) string { return valueText(r.props[k]) }

func propList(r *cfnRes, k string) []string {
	l, _ := r.props[k].([]any)
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = valueText(v)
	}
	return out
}

// physicalName is what CloudFormation names a resource the template leaves
// unnamed: stack-logical-suffix. A random suffix where the name lives in
// kumo's process-wide state, a stable one otherwise (so a fresh emulator
// names things the same way).
func physicalName(s *cfnStack, r *cfnRes, random bool, max int) string {
	suffix := strings.ToUpper(s.id[len(s.id)-12:])
	if random {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		suffix = strings.ToUpper(hex.EncodeToString(b))
	}
	n := s.name + "-" + r.logical
	if len(n) > max-13 {
		n = n[:max-13]
	}
	return n + "-" + suffix
}

func ec2TagList(tags map[string]string) []ec2types.Tag {
	var out []ec2types.Tag
	for _, k := range sortedKeys(tags) {
		out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

func createSecurityGroup(ctx context.Context, c *cfnClients, s *cfnStack, r *cfnRes) error {
	name := prop(r, "GroupName")
	if name == "" {
		name = physicalName(s, r, true, 255)
	}
	in := &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(prop(r, "GroupDescription")),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroup, Tags: ec2TagList(r.tags)}}}
	if v := prop(r, "VpcId"); v != "" {
		in.VpcId = aws.String(v)
	}
	out, err := c.ec2.CreateSecurityGroup(ctx, in)
	if err != nil {
		return err
	}
	r.physical = aws.ToString(out.GroupId)
	r.attrs = map[string]string{"GroupId": r.physical}
	return nil
}

func deleteSecurityGroup(ctx context.Context, c *cfnClients, r *cfnRes) error {
	_, err := c.ec2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(r.physical)})
	return err
}

func createInstance(ctx context.Context, c *cfnClients, _ *cfnStack, r *cfnRes) error {
	out, err := c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(prop(r, "ImageId")), InstanceType: ec2types.InstanceType(prop(r, "InstanceType")),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SecurityGroupIds: propList(r, "SecurityGroupIds"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: ec2TagList(r.tags)}},
	})
	if err != nil {
		return err
	}
	if len(out.Instances) != 1 {
		return fmt.Errorf("run instances: %d instances launched, want 1", len(out.Instances))
	}
	in := out.Instances[0]
	r.physical = aws.ToString(in.InstanceId)
	r.attrs = map[string]string{"PrivateIp": aws.ToString(in.PrivateIpAddress)}
	if in.Placement != nil {
		r.attrs["AvailabilityZone"] = aws.ToString(in.Placement.AvailabilityZone)
	}
	return nil
}

// updateInstance changes the instance type the way CloudFormation does:
// stop, modify, start ("Some interruptions").
func updateInstance(ctx context.Context, c *cfnClients, _ *cfnStack, r, old *cfnRes) error {
	id := aws.String(r.physical)
	if t := prop(r, "InstanceType"); t != prop(old, "InstanceType") {
		if _, err := c.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{r.physical}}); err != nil {
			return err
		}
		if _, err := c.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: id,
			InstanceType: &ec2types.AttributeValue{Value: aws.String(t)}}); err != nil {
			return err
		}
		if _, err := c.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{r.physical}}); err != nil {
			return err
		}
	}
	_, err := c.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{r.physical}, Tags: ec2TagList(r.tags)})
	return err
}

func deleteInstance(ctx context.Context, c *cfnClients, r *cfnRes) error {
	_, err := c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{r.physical}})
	return err
}

func instanceDrift(ctx context.Context, c *cfnClients, r *cfnRes) ([]cfnDiff, bool, error) {
	out, err := c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: []string{r.physical}}}})
	if err != nil {
		return nil, false, err
	}
	// The filter names one instance: the first found is it.
	for _, res := range out.Reservations {
		if len(res.Instances) == 0 {
			continue
		}
		in := res.Instances[0]
		if in.State != nil && in.State.Name == ec2types.InstanceStateNameTerminated {
			return nil, true, nil
		}
		if got, want := string(in.InstanceType), prop(r, "InstanceType"); got != want {
			return []cfnDiff{{"/InstanceType", want, got}}, false, nil
		}
		return nil, false, nil
	}
	return nil, true, nil
}

func createDB(ctx context.Context, c *cfnClients, s *cfnStack, r *cfnRes) error {
	id := prop(r, "DBInstanceIdentifier")
	if id == "" {
		id = strings.ToLower(physicalName(s, r, false, 63))
	}
	storage, _ := strconv.Atoi(prop(r, "AllocatedStorage"))
	var tags []rdstypes.Tag
	for _, k := range sortedKeys(r.tags) {
		tags = append(tags, rdstypes.Tag{Key: aws.String(k), Value: aws.String(r.tags[k])})
	}
	_, err := c.rds.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(id), DBInstanceClass: aws.String(prop(r, "DBInstanceClass")),
		Engine: aws.String(prop(r, "Engine")), EngineVersion: aws.String(prop(r, "EngineVersion")),
		AllocatedStorage: aws.Int32(int32(storage)), MultiAZ: aws.Bool(prop(r, "MultiAZ") == "true"),
		StorageEncrypted: aws.Bool(prop(r, "StorageEncrypted") == "true"), DeletionProtection: aws.Bool(prop(r, "DeletionProtection") == "true"),
		MasterUsername: aws.String(prop(r, "MasterUsername")), Tags: tags,
	})
	if err != nil {
		return err
	}
	r.physical = id
	r.attrs = map[string]string{"Endpoint.Address": id + ".emulator.us-east-1.rds.amazonaws.com", "Endpoint.Port": "5432",
		"DBInstanceArn": "arn:aws:rds:us-east-1:000000000000:db:" + id}
	return nil
}

func updateDB(ctx context.Context, c *cfnClients, _ *cfnStack, r, _ *cfnRes) error {
	in := &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String(r.physical), ApplyImmediately: aws.Bool(true),
		DBInstanceClass: aws.String(prop(r, "DBInstanceClass")), DeletionProtection: aws.Bool(prop(r, "DeletionProtection") == "true")}
	if n, err := strconv.Atoi(prop(r, "AllocatedStorage")); err == nil {
		in.AllocatedStorage = aws.Int32(int32(n))
	}
	_, err := c.rds.ModifyDBInstance(ctx, in)
	return err
}

func deleteDB(ctx context.Context, c *cfnClients, r *cfnRes) error {
	_, err := c.rds.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String(r.physical), SkipFinalSnapshot: aws.Bool(true)})
	return err
}

func dbDrift(ctx context.Context, c *cfnClients, r *cfnRes) ([]cfnDiff, bool, error) {
	out, err := c.rds.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(r.physical)})
	if err != nil {
		if strings.Contains(err.Error(), "DBInstanceNotFound") {
			return nil, true, nil
		}
		return nil, false, err
	}
	var diffs []cfnDiff
	for _, db := range out.DBInstances {
		if got, want := aws.ToString(db.DBInstanceClass), prop(r, "DBInstanceClass"); got != want {
			diffs = append(diffs, cfnDiff{"/DBInstanceClass", want, got})
		}
	}
	return diffs, false, nil
}

func createBucket(ctx context.Context, c *cfnClients, s *cfnStack, r *cfnRes) error {
	name := prop(r, "BucketName")
	if name == "" {
		name = strings.ToLower(physicalName(s, r, true, 63))
	}
	if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return err
	}
	var set []s3types.Tag
	for _, k := range sortedKeys(r.tags) {
		set = append(set, s3types.Tag{Key: aws.String(k), Value: aws.String(r.tags[k])})
	}
	if _, err := c.s3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(name), Tagging: &s3types.Tagging{TagSet: set}}); err != nil {
		return err
	}
	if _, ok := r.props["BucketEncryption"]; ok {
		if _, err := c.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(name), ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
			Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}}); err != nil {
			return err
		}
	}
	r.physical = name
	r.attrs = map[string]string{"Arn": "arn:aws:s3:::" + name, "DomainName": name + ".s3.amazonaws.com"}
	return nil
}

func deleteBucket(ctx context.Context, c *cfnClients, r *cfnRes) error {
	_, err := c.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(r.physical)})
	return err
}

func putAlarm(ctx context.Context, c *cfnClients, _ *cfnStack, r *cfnRes) error {
	num := func(k string) float64 { f, _ := strconv.ParseFloat(prop(r, k), 64); return f }
	in := &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(prop(r, "AlarmName")), AlarmDescription: aws.String(prop(r, "AlarmDescription")),
		Namespace: aws.String(prop(r, "Namespace")), MetricName: aws.String(prop(r, "MetricName")),
		Statistic: cwtypes.Statistic(prop(r, "Statistic")), Period: aws.Int32(int32(num("Period"))),
		EvaluationPeriods: aws.Int32(int32(num("EvaluationPeriods"))), Threshold: aws.Float64(num("Threshold")),
		ComparisonOperator: cwtypes.ComparisonOperator(prop(r, "ComparisonOperator")),
	}
	if t := prop(r, "TreatMissingData"); t != "" {
		in.TreatMissingData = aws.String(t)
	}
	dims, _ := r.props["Dimensions"].([]any)
	for _, d := range dims {
		m, _ := d.(map[string]any)
		in.Dimensions = append(in.Dimensions, cwtypes.Dimension{Name: aws.String(valueText(m["Name"])), Value: aws.String(valueText(m["Value"]))})
	}
	for _, k := range sortedKeys(r.tags) {
		in.Tags = append(in.Tags, cwtypes.Tag{Key: aws.String(k), Value: aws.String(r.tags[k])})
	}
	if _, err := c.cw.PutMetricAlarm(ctx, in); err != nil {
		return err
	}
	r.physical = prop(r, "AlarmName")
	r.attrs = map[string]string{"Arn": "arn:aws:cloudwatch:us-east-1:000000000000:alarm:" + r.physical}
	return nil
}

func deleteAlarm(ctx context.Context, c *cfnClients, r *cfnRes) error {
	_, err := c.cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{r.physical}})
	return err
}

func alarmDrift(ctx context.Context, c *cfnClients, r *cfnRes) ([]cfnDiff, bool, error) {
	out, err := c.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{r.physical}})
	if err != nil {
		return nil, false, err
	}
	if len(out.MetricAlarms) == 0 {
		return nil, true, nil
	}
	a := out.MetricAlarms[0]
	var diffs []cfnDiff
	for _, p := range []struct {
		path string
		got  string
	}{
		{"Threshold", strconv.FormatFloat(aws.ToFloat64(a.Threshold), 'f', -1, 64)},
		{"EvaluationPeriods", strconv.Itoa(int(aws.ToInt32(a.EvaluationPeriods)))},
		{"ComparisonOperator", string(a.ComparisonOperator)},
	} {
		want := prop(r, p.path)
		if f, err := strconv.ParseFloat(want, 64); err == nil {
			want = strconv.FormatFloat(f, 'f', -1, 64)
		}
		if want != p.got {
			diffs = append(diffs, cfnDiff{"/" + p.path, want, p.got})
		}
	}
	return diffs, false, nil
}
