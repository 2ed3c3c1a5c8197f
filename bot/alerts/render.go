package alerts

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot"
)

// ButtonPrefix starts a remediation button's id on alerts posted before
// remediations were saved: "rm:APP:TASK". The engine still routes a press
// of it like the typed command `APP TASK`.
const ButtonPrefix = "rm:"

// ActionButtonPrefix starts a remediation button's id: "ra:ID:INDEX", the
// INDEXth remediation saved under ID (State.SaveAlertActions). The engine
// routes a press like the typed `APP TASK k=v …`.
const ActionButtonPrefix = "ra:"

// maxButtonID is Discord's custom_id limit, which the engine keeps to.
const maxButtonID = 100

// alertMessage is the post for an alarm that went to ALARM. actionsID
// names the saved remediations (in the order RemediationsFor gives them);
// without it a remediation without parameters gets an "rm:" button and one
// with parameters is offered as the command to type.
func alertMessage(app *blueprints.ResolvedApp, a cwtypes.MetricAlarm, actionsID string) bot.Message {
	name := aws.ToString(a.AlarmName)
	m := bot.Message{
		Title:  "ALARM — " + name,
		Text:   aws.ToString(a.StateReason),
		Tone:   bot.ToneDanger,
		Fields: fields(app, a),
	}
	var typed, runs []string
	for i, s := range app.RemediationsFor(name) {
		cmd := "`" + app.Name + " " + s.Task
		if len(s.Params) > 0 {
			cmd += " " + params(s.Params)
		}
		cmd += "`"
		id := ButtonPrefix + app.Name + ":" + s.Task
		switch {
		case actionsID != "":
			id = ActionButtonPrefix + actionsID + ":" + strconv.Itoa(i)
			if len(s.Params) > 0 {
				// The label is the task; what the button fills in is said
				// here, so nobody presses blind.
				runs = append(runs, s.Task+" runs "+cmd)
			}
		case len(s.Params) > 0 || len(id) > maxButtonID:
			typed = append(typed, cmd)
			continue
		}
		m.Buttons = append(m.Buttons, bot.Button{ID: id, Label: s.Task, Style: bot.StylePrimary})
	}
	m.Context = append(m.Context, runs...)
	if len(typed) > 0 {
		m.Context = append(m.Context, "also: "+strings.Join(typed, " · "))
	}
	m.Context = append(m.Context, "console: "+ConsoleURL(app.Region, name))
	return m
}

// resolvedMessage replaces the alert once the alarm left ALARM; the
// buttons go, the reason stays readable.
func resolvedMessage(app *blueprints.ResolvedApp, a cwtypes.MetricAlarm) bot.Message {
	name := aws.ToString(a.AlarmName)
	state := string(a.StateValue)
	m := bot.Message{
		Title:   state + " — " + name,
		Text:    "back to " + state,
		Tone:    bot.ToneSuccess,
		Fields:  fields(app, a),
		Context: []string{"console: " + ConsoleURL(app.Region, name)},
	}
	if ts := aws.ToTime(a.StateTransitionedTimestamp); !ts.IsZero() {
		m.Text += " since " + ts.UTC().Format("Jan 2 15:04 MST")
	}
	if r := aws.ToString(a.StateReason); r != "" {
		m.Text += ": " + r
	}
	if state != string(cwtypes.StateValueOk) {
		m.Tone = bot.ToneWarning
	}
	return m
}

func fields(app *blueprints.ResolvedApp, a cwtypes.MetricAlarm) []bot.Field {
	fs := []bot.Field{{Name: "App", Value: app.Name}}
	if mn := aws.ToString(a.MetricName); mn != "" {
		metric := aws.ToString(a.Namespace) + " " + mn
		if st := string(a.Statistic); st != "" {
			metric += fmt.Sprintf(" (%s, %ds)", st, aws.ToInt32(a.Period))
		}
		fs = append(fs, bot.Field{Name: "Metric", Value: metric})
	}
	if a.Threshold != nil {
		fs = append(fs, bot.Field{Name: "Threshold", Value: comparison(a.ComparisonOperator) + " " + trimFloat(*a.Threshold)})
	}
	if ts := aws.ToTime(a.StateTransitionedTimestamp); !ts.IsZero() {
		fs = append(fs, bot.Field{Name: "Since", Value: ts.UTC().Format("Jan 2 15:04 MST")})
	}
	return fs
}

func comparison(op cwtypes.ComparisonOperator) string {
	switch op {
	case cwtypes.ComparisonOperatorGreaterThanThreshold:
		return ">"
	case cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold:
		return "≥"
	case cwtypes.ComparisonOperatorLessThanThreshold:
		return "<"
	case cwtypes.ComparisonOperatorLessThanOrEqualToThreshold:
		return "≤"
	}
	return string(op)
}

func trimFloat(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

func params(p map[string]string) string {
	parts := make([]string, 0, len(p))
	for _, k := range slices.Sorted(maps.Keys(p)) {
		v := p[k]
		if strings.ContainsAny(v, " \t\"") {
			v = `"` + strings.ReplaceAll(v, `"`, `'`) + `"`
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, " ")
}

// ConsoleURL links to the alarm in the CloudWatch console.
func ConsoleURL(region, alarm string) string {
	if region == "" {
		region = "us-east-1"
	}
	return "https://" + region + ".console.aws.amazon.com/cloudwatch/home?region=" + region +
		"#alarmsV2:alarm/" + url.PathEscape(alarm)
}
