package emulator

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/smithy-go"
)

func TestRDSInstancesTagsAndPagination(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	for i := range 25 {
		if err := s.SeedDBInstance(ctx, DBInstance{ID: fmt.Sprintf("db-%02d", i), Tags: map[string]string{"app": "shop"}}); err != nil {
			t.Fatal(err)
		}
	}
	c := rds.NewFromConfig(s.seedConfig())
	var ids []string
	p := rds.NewDescribeDBInstancesPaginator(c, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(20)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, in := range out.DBInstances {
			ids = append(ids, aws.ToString(in.DBInstanceIdentifier))
			if len(in.TagList) != 1 || aws.ToString(in.TagList[0].Value) != "shop" {
				t.Fatalf("tags of %s = %+v", aws.ToString(in.DBInstanceIdentifier), in.TagList)
			}
		}
	}
	if pages != 2 || len(ids) != 25 || ids[0] != "db-00" || ids[24] != "db-24" {
		t.Fatalf("pages=%d ids=%v", pages, ids)
	}

	out, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{Filters: []rdstypes.Filter{{Name: aws.String("db-instance-id"), Values: []string{"db-03", "db-07"}}}})
	if err != nil || len(out.DBInstances) != 2 {
		t.Fatalf("filter: %v %+v", err, out)
	}
	_, err = c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(5)})
	if code := errCode(err); code != "InvalidParameterValue" {
		t.Fatalf("MaxRecords 5: code %q (%v)", code, err)
	}
}

func TestRDSStateTransitionsAndSnapshots(t *testing.T) {
	s := New()
	defer s.Close()
	ctx := context.Background()
	if err := s.SeedDBInstance(ctx, DBInstance{ID: "db-a", Status: "stopped"}); err != nil {
		t.Fatal(err)
	}
	c := rds.NewFromConfig(s.seedConfig())
	id := aws.String("db-a")
	if _, err := c.RebootDBInstance(ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: id}); errCode(err) != "InvalidDBInstanceState" {
		t.Fatalf("reboot stopped: %v", err)
	}
	st, err := c.StartDBInstance(ctx, &rds.StartDBInstanceInput{DBInstanceIdentifier: id})
	if err != nil || aws.ToString(st.DBInstance.DBInstanceStatus) != "starting" {
		t.Fatalf("start: %v %+v", err, st)
	}
	rb, err := c.RebootDBInstance(ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: id})
	if err != nil || aws.ToString(rb.DBInstance.DBInstanceStatus) != "rebooting" {
		t.Fatalf("reboot: %v", err)
	}
	if _, err := c.RebootDBInstance(ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: id, ForceFailover: aws.Bool(true)}); errCode(err) != "InvalidParameterCombination" {
		t.Fatalf("failover without Multi-AZ: %v", err)
	}
	if _, err := c.RebootDBInstance(ctx, &rds.RebootDBInstanceInput{DBInstanceIdentifier: aws.String("nope")}); errCode(err) != "DBInstanceNotFound" {
		t.Fatalf("reboot missing: %v", err)
	}
	var nf *rdstypes.DBInstanceNotFoundFault
	if _, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("nope")}); !errors.As(err, &nf) {
		t.Fatalf("describe missing: %T %v", err, err)
	}

	for i := range 130 {
		if err := s.SeedDBSnapshot(ctx, "db-a", fmt.Sprintf("snap-%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SeedDBSnapshot(ctx, "db-a", "snap-000"); errCode(errors.Unwrap(err)) != "DBSnapshotAlreadyExists" && errCode(err) != "DBSnapshotAlreadyExists" {
		t.Fatalf("duplicate snapshot: %v", err)
	}
	first, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: id})
	if err != nil || len(first.DBSnapshots) != 100 || first.Marker == nil {
		t.Fatalf("page 1: %v len=%d", err, len(first.DBSnapshots))
	}
	second, err := c.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: id, Marker: first.Marker, MaxRecords: aws.Int32(20)})
	if err != nil || len(second.DBSnapshots) != 20 || aws.ToString(second.DBSnapshots[0].DBSnapshotIdentifier) != "snap-100" || second.Marker == nil {
		t.Fatalf("page 2: %v %+v", err, second)
	}
	sn := first.DBSnapshots[0]
	if aws.ToString(sn.Status) != "available" || aws.ToString(sn.SnapshotType) != "manual" || sn.SnapshotCreateTime == nil {
		t.Fatalf("snapshot fields: %+v", sn)
	}
	if s.Count("rds:DescribeDBSnapshots") != 2 {
		t.Fatalf("count = %d", s.Count("rds:DescribeDBSnapshots"))
	}
}

func errCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}
