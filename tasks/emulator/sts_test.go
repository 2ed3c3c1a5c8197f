package emulator

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

func TestSTSAssumeRoleEchoesAndValidates(t *testing.T) {
	s := New()
	defer s.Close()
	c := sts.NewFromConfig(s.seedConfig())
	ctx := context.Background()
	out, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::123456789012:role/day2bot"), RoleSessionName: aws.String("slack.U123"),
		SourceIdentity: aws.String("slack.U123"), ExternalId: aws.String("x-1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.SourceIdentity) != "slack.U123" || aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::123456789012:assumed-role/day2bot/slack.U123" {
		t.Fatalf("out %+v %+v", out, out.AssumedRoleUser)
	}
	as, ok := s.SessionFor(aws.ToString(out.Credentials.AccessKeyId))
	if !ok || as.SourceIdentity != "slack.U123" || as.ExternalID != "x-1" || out.Credentials.Expiration == nil {
		t.Fatalf("session %+v", as)
	}

	for name, in := range map[string]*sts.AssumeRoleInput{
		"colon in session name": {RoleArn: aws.String("arn:aws:iam::123456789012:role/r"), RoleSessionName: aws.String("slack:U1")},
		"short source identity": {RoleArn: aws.String("arn:aws:iam::123456789012:role/r"), RoleSessionName: aws.String("ok"), SourceIdentity: aws.String("x")},
		"bad role arn":          {RoleArn: aws.String("role/r"), RoleSessionName: aws.String("ok")},
	} {
		_, err := c.AssumeRole(ctx, in)
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "ValidationError" {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
