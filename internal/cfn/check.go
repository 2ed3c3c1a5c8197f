package cfn

import (
	"fmt"
	"reflect"
	"strings"
)

// untaggable are resource types CloudFormation cannot tag; every other
// resource must carry the app tag.
var untaggable = map[string]bool{
	"AWS::EC2::SecurityGroupIngress": true, "AWS::EC2::SecurityGroupEgress": true,
	"AWS::EC2::VolumeAttachment": true, "AWS::S3::BucketPolicy": true,
	"AWS::ElasticLoadBalancingV2::Listener": true, "AWS::ElasticLoadBalancingV2::ListenerRule": true,
	"AWS::IAM::Policy": true, "AWS::CloudFormation::WaitConditionHandle": true,
}

// Check reports what keeps a template from being deployed by day2bot, as
// "Section.Name: problem" lines: parameters that cannot be typed and
// bounded, a missing AppName parameter, resources without the
// app=<AppName> tag, alarms not named with the "<AppName>-" prefix the
// alert watcher matches.
func Check(t *Template) []string {
	var out []string
	if _, err := TaskParams(t); err != nil {
		if pe, ok := err.(*ParamsError); ok {
			out = append(out, pe.Problems...)
		} else {
			out = append(out, err.Error())
		}
	}
	if p, ok := t.Parameters[AppParameter]; !ok || p.Type != "String" {
		out = append(out, fmt.Sprintf("Parameters.%s: required, Type String: the deploy fills it with the app's name for tags and alarm names", AppParameter))
	}
	appRef := map[string]any{"Ref": AppParameter}
	for _, name := range t.ResourceNames() {
		r := t.Resources[name]
		p := "Resources." + name
		if r.Type == "" {
			out = append(out, p+".Type: required")
			continue
		}
		if !untaggable[r.Type] && !hasTag(r.Properties["Tags"], "app", appRef) {
			out = append(out, fmt.Sprintf("%s.Properties.Tags: must include {Key: app, Value: !Ref %s}, so the app's resources can be found and costed", p, AppParameter))
		}
		if r.Type == "AWS::CloudWatch::Alarm" {
			sub, _ := asMap(r.Properties["AlarmName"])["Fn::Sub"].(string)
			if !strings.HasPrefix(sub, "${"+AppParameter+"}-") {
				out = append(out, fmt.Sprintf("%s.Properties.AlarmName: must be !Sub \"${%s}-…\", the prefix the alert watcher matches", p, AppParameter))
			}
		}
	}
	return out
}

func hasTag(tags any, key string, value any) bool {
	list, _ := tags.([]any)
	for _, e := range list {
		m := asMap(e)
		if m["Key"] == key && reflect.DeepEqual(m["Value"], value) {
			return true
		}
	}
	return false
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
