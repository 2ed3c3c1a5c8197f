package alerts

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func snsEnvelope(t testing.TB, alarm, state string) string {
	t.Helper()
	inner, err := json.Marshal(map[string]any{"AlarmName": alarm, "NewStateValue": state, "OldStateValue": "OK", "NewStateReason": "Threshold Crossed"})
	if err != nil {
		t.Fatal(err)
	}
	env, err := json.Marshal(map[string]any{"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:alarms",
		"Subject": "ALARM: " + alarm, "Message": string(inner)})
	if err != nil {
		t.Fatal(err)
	}
	return string(env)
}

func TestAlarmName(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
		ok               bool
	}{
		{"sns envelope", snsEnvelope(t, "shop-web-cpu-high", "ALARM"), "shop-web-cpu-high", true},
		{"raw delivery", `{"AlarmName":"shop-db-cpu-high","NewStateValue":"OK"}`, "shop-db-cpu-high", true},
		{"not json", `hello`, "", false},
		{"sns without alarm", `{"Type":"Notification","Message":"{\"foo\":1}"}`, "", false},
		{"sns message not json", `{"Type":"Notification","Message":"plain text"}`, "", false},
		{"empty name", `{"AlarmName":""}`, "", false},
		{"control character", `{"AlarmName":"a\u0001b"}`, "", false},
		{"too long", `{"AlarmName":"` + strings.Repeat("x", 256) + `"}`, "", false},
	} {
		got, err := AlarmName([]byte(tc.body))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%s: AlarmName = %q, %v; want %q ok=%v", tc.name, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzAlarmName(f *testing.F) {
	f.Add([]byte(snsEnvelope(f, "shop-web-cpu-high", "ALARM")))
	f.Add([]byte(`{"AlarmName":"x"}`))
	f.Add([]byte(`{"Message":"{\"AlarmName\":1}"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		name, err := AlarmName(body)
		if err == nil && (name == "" || len(name) > 255) {
			t.Fatalf("accepted invalid name %q", name)
		}
	})
}

// TestFeedPostsAtOnce: a notification on the queue makes the watcher
// check the alarm now; the message is deleted; a junk message is deleted
// too and posts nothing.
func TestFeedPostsAtOnce(t *testing.T) {
	ctx := context.Background()
	app := testApp()
	alarm := app.Name + "-web-cpu-high"
	seedAlarm(t, alarm, "OK")
	p := newRec("test")
	w := newWatcher(t, app, openStore(t, filepath.Join(t.TempDir(), "a.db")), p)
	poll(t, w) // OK is recorded, nothing posted

	q := sqs.NewFromConfig(emu.ClientConfig("us-east-1", "AKIDFEED"))
	created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(app.Name + "-alarms")})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(created.QueueUrl)
	setState(t, alarm, "ALARM", "Threshold Crossed: feed")
	for _, body := range []string{snsEnvelope(t, alarm, "ALARM"), "junk"} {
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	f := &Feed{Queue: url, SQS: q, Watcher: w}
	var seen []string
	for range 3 { // SQS may hand out fewer than all messages per receive
		names, err := f.Once(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, names...)
	}
	if len(seen) != 1 || seen[0] != alarm {
		t.Errorf("feed saw %v, want [%s]", seen, alarm)
	}
	if posts, _ := p.counts(); posts != 1 {
		t.Errorf("posts = %d, want 1 from the feed", posts)
	}
	left, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(left.Messages) != 0 {
		t.Errorf("%d messages left on the queue", len(left.Messages))
	}
	poll(t, w) // the regular poll agrees: no repost
	if posts, _ := p.counts(); posts != 1 {
		t.Errorf("posts after poll = %d, want 1", posts)
	}
}
