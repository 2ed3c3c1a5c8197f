package cfn

import (
	"strings"
	"testing"

	"github.com/day2bot/day2bot/tasks"
)

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"InstanceType": "instance_type", "DBInstanceClass": "db_instance_class", "WebCpuThreshold": "web_cpu_threshold",
		"ImageId": "image_id", "VPCId": "vpc_id", "Port80Open": "port80_open", "x": "x",
	} {
		if got := SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTaskParams(t *testing.T) {
	for _, tc := range []struct {
		name, param string
		want        string // Param.String(), or the error
	}{
		{"enum", `{Type: String, Default: t3.small, AllowedValues: [t3.micro, t3.small]}`, "xy: enum t3.micro|t3.small (default t3.small)"},
		{"number bounds", `{Type: Number, Default: 20, MinValue: 20, MaxValue: 500}`, "xy: int 20..500 (default 20)"},
		{"number enum", `{Type: Number, AllowedValues: [1, 3]}`, "xy: enum 1|3 (required)"},
		{"pattern", `{Type: String, AllowedPattern: "[a-z]{1,8}", ConstraintDescription: 1 to 8 lowercase letters}`, "xy: string, 1 to 8 lowercase letters (required)"},
		{"aws id", `{Type: "AWS::EC2::VPC::Id"}`, "xy: string, a VPC id like vpc-0abc1234 (required)"},
		{"unbounded string", `{Type: String}`, "Parameters.XY: a String needs AllowedValues, or AllowedPattern with a ConstraintDescription"},
		{"pattern without words", `{Type: String, AllowedPattern: "[a-z]+"}`, "Parameters.XY: AllowedPattern needs a ConstraintDescription"},
		{"unbounded number", `{Type: Number, MinValue: 1}`, "Parameters.XY: a Number needs MinValue and MaxValue"},
		{"secret", `{Type: String, NoEcho: true, AllowedPattern: ".+", ConstraintDescription: x}`, "Parameters.XY: NoEcho parameters are secrets"},
		{"list", `{Type: CommaDelimitedList}`, "Parameters.XY: type CommaDelimitedList cannot be a task parameter"},
		{"bad default", `{Type: String, Default: t9.huge, AllowedValues: [t3.micro]}`, "Parameters.XY: xy: default \"t9.huge\" is invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Parse([]byte("Parameters:\n  XY: " + tc.param + "\nResources:\n  A: {Type: AWS::S3::Bucket}\n"))
			if err != nil {
				t.Fatal(err)
			}
			ps, err := TaskParams(tmpl)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = ps[0].String()
			}
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("got %q, want prefix %q", got, tc.want)
			}
		})
	}
}

// Bounds are enforced by the task parameter, before anything reaches AWS.
func TestTaskParamBoundsRejectBeforeAWS(t *testing.T) {
	tmpl, err := Parse([]byte(`
Parameters:
  InstanceType: {Type: String, Default: t3.small, AllowedValues: [t3.small, t3.medium]}
  Storage: {Type: Number, Default: 20, MinValue: 20, MaxValue: 500}
  Label: {Type: String, Default: a, AllowedPattern: "[a-z]{1,8}", ConstraintDescription: 1 to 8 lowercase letters}
Resources:
  A: {Type: AWS::S3::Bucket}
`))
	if err != nil {
		t.Fatal(err)
	}
	tps, err := TaskParams(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	ps := make([]tasks.Param, len(tps))
	for i, p := range tps {
		ps[i] = p.Param
	}
	for raw, want := range map[string]string{
		"instance_type=t9.huge": `instance_type must be one of t3.small, t3.medium, got "t9.huge"`,
		"storage=501":           "storage must be between 20 and 500, got 501",
		"label=Bad!":            `label must be 1 to 8 lowercase letters, got "Bad!"`,
	} {
		k, v, _ := strings.Cut(raw, "=")
		_, err := tasks.ParseValues(ps, map[string]string{k: v})
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", raw, err, want)
		}
	}
}

func TestCheck(t *testing.T) {
	tmpl, err := Parse([]byte(`
Parameters:
  AppName: {Type: String, AllowedPattern: "[a-z]+", ConstraintDescription: lowercase}
Resources:
  Tagged:
    Type: AWS::S3::Bucket
    Properties: {Tags: [{Key: app, Value: !Ref AppName}]}
  Untagged:
    Type: AWS::EC2::Instance
    Properties: {Tags: [{Key: app, Value: shop}]}
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties: {AlarmName: cpu, Tags: [{Key: app, Value: !Ref AppName}]}
  Rule:
    Type: AWS::EC2::SecurityGroupIngress
`))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(Check(tmpl), "\n")
	want := "Resources.Alarm.Properties.AlarmName: must be !Sub \"${AppName}-…\", the prefix the alert watcher matches\n" +
		"Resources.Untagged.Properties.Tags: must include {Key: app, Value: !Ref AppName}, so the app's resources can be found and costed"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestMergeAndEval(t *testing.T) {
	a, _ := Parse([]byte("Parameters:\n  P: {Type: String}\nResources:\n  A: {Type: X, Properties: {N: !Sub \"${P}-${B.Arn}\", J: !Join [\",\", [!Ref P, b]]}}\n"))
	b, _ := Parse([]byte("Parameters:\n  P: {Type: String}\nResources:\n  B: {Type: Y}\n"))
	m, err := Merge([]string{"a", "b"}, []*Template{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.ResourceNames(); strings.Join(got, ",") != "A,B" {
		t.Fatalf("merged resources %v", got)
	}
	order, err := Order(m)
	if err != nil || strings.Join(order, ",") != "B,A" {
		t.Fatalf("order %v, %v", order, err)
	}
	v, err := Eval(m.Resources["A"].Properties, env{})
	if err != nil {
		t.Fatal(err)
	}
	props := v.(map[string]any)
	if props["N"] != "p-arn:b" || props["J"] != "p,b" {
		t.Errorf("evaluated %v", props)
	}
	c, _ := Parse([]byte("Resources:\n  B: {Type: Z}\n"))
	if _, err := Merge([]string{"a", "b", "c"}, []*Template{a, b, c}); err == nil || !strings.Contains(err.Error(), "Resource B is defined differently by b and c") {
		t.Errorf("clash: %v", err)
	}
}

type env struct{}

func (env) Ref(n string) (string, bool) { return map[string]string{"P": "p"}[n], n == "P" }
func (env) GetAtt(r, a string) (string, bool) {
	return "arn:b", r == "B" && a == "Arn"
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("Resources:\n  A: {Type: X, Properties: {N: !GetAtt B.Arn}}\n"))
	f.Add([]byte(`{"Resources":{"A":{"Type":"X"}}}`))
	f.Add([]byte("Parameters: {P: {Type: Number, MinValue: 1, MaxValue: 2}}\nResources: {A: {Type: X}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tmpl, err := Parse(data)
		if err != nil {
			return
		}
		_ = Check(tmpl)
		_, _ = Order(tmpl)
		if _, err := Parse([]byte(tmpl.Body())); err != nil {
			t.Fatalf("body of a parsed template does not parse: %v", err)
		}
	})
}
