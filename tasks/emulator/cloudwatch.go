package emulator

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/fxamacker/cbor/v2"
)

// CloudWatch fill-ins, in the smithy rpc-v2-cbor protocol the SDK speaks.
// kumo has no Disable/EnableAlarmActions, truncates DescribeAlarms at 50
// without a NextToken, drops alarm fields (treat-missing-data, insufficient
// data actions...) and ignores Stat/Period in GetMetricData, so the emulator
// keeps alarms and metric levels itself and answers every alarm and
// metric-data operation day2bot uses.

// Alarm is a seedable metric alarm. Zero fields get the defaults of a CPU
// alarm: Statistic Average, Period 300, EvaluationPeriods 1,
// ComparisonOperator GreaterThanThreshold, State OK.
type Alarm struct {
	Name, Description  string
	Namespace, Metric  string
	Dimensions         map[string]string
	Statistic          string
	Period             int32
	EvaluationPeriods  int32
	Threshold          float64
	ComparisonOperator string
	TreatMissingData   string
	AlarmActions       []string
	OKActions          []string
	State              string // OK, ALARM, INSUFFICIENT_DATA
}

type cwDimension struct {
	Name  string
	Value string
}

// cwAlarm is both the stored alarm and its DescribeAlarms wire shape.
type cwAlarm struct {
	AlarmName                          string
	AlarmArn                           string
	AlarmDescription                   string          `cbor:",omitempty"`
	AlarmConfigurationUpdatedTimestamp time.Time       `cbor:",omitempty"`
	ActionsEnabled                     bool            // always sent: absent would read as "unknown"
	OKActions                          []string        `cbor:",omitempty"`
	AlarmActions                       []string        `cbor:",omitempty"`
	InsufficientDataActions            []string        `cbor:",omitempty"`
	StateValue                         string          `cbor:",omitempty"`
	StateReason                        string          `cbor:",omitempty"`
	StateReasonData                    string          `cbor:",omitempty"`
	StateUpdatedTimestamp              time.Time       `cbor:",omitempty"`
	StateTransitionedTimestamp         time.Time       `cbor:",omitempty"`
	MetricName                         string          `cbor:",omitempty"`
	Namespace                          string          `cbor:",omitempty"`
	Statistic                          string          `cbor:",omitempty"`
	ExtendedStatistic                  string          `cbor:",omitempty"`
	Dimensions                         []cwDimension   `cbor:",omitempty"`
	Period                             int32           `cbor:",omitempty"`
	Unit                               string          `cbor:",omitempty"`
	EvaluationPeriods                  int32           `cbor:",omitempty"`
	DatapointsToAlarm                  int32           `cbor:",omitempty"`
	Threshold                          *float64        `cbor:",omitempty"`
	ComparisonOperator                 string          `cbor:",omitempty"`
	TreatMissingData                   string          `cbor:",omitempty"`
	EvaluateLowSampleCountPercentile   string          `cbor:",omitempty"`
	Metrics                            cbor.RawMessage `cbor:",omitempty"`
	ThresholdMetricId                  string          `cbor:",omitempty"`
}

// cwPutAlarm is PutMetricAlarm's input: the alarm's configuration.
type cwPutAlarm struct {
	AlarmName, AlarmDescription                         string
	ActionsEnabled                                      *bool
	OKActions, AlarmActions, InsufficientDataActions    []string
	MetricName, Namespace, Statistic, ExtendedStatistic string
	Dimensions                                          []cwDimension
	Period, EvaluationPeriods, DatapointsToAlarm        int32
	Unit, ComparisonOperator, TreatMissingData          string
	EvaluateLowSampleCountPercentile, ThresholdMetricId string
	Threshold                                           *float64
	Metrics                                             cbor.RawMessage
}

type cwState struct {
	mu     sync.Mutex
	now    func() time.Time
	enc    cbor.EncMode
	dec    cbor.DecMode
	alarms map[string]*cwAlarm
	levels map[string]float64 // seriesKey -> value pushed by PutMetricData
}

func (s *Server) registerCloudWatch() {
	enc, _ := cbor.EncOptions{Time: cbor.TimeUnixMicro, TimeTag: cbor.EncTagRequired}.EncMode() // constant, valid options
	dec, _ := cbor.DecOptions{TimeTag: cbor.DecTagOptional}.DecMode()
	st := &cwState{now: time.Now, enc: enc, dec: dec, alarms: map[string]*cwAlarm{}, levels: map[string]float64{}}
	s.Handle("monitoring:PutMetricAlarm", st.putAlarm)
	s.Handle("monitoring:DescribeAlarms", st.describeAlarms)
	s.Handle("monitoring:DeleteAlarms", st.deleteAlarms)
	s.Handle("monitoring:SetAlarmState", st.setState)
	s.Handle("monitoring:DisableAlarmActions", st.setActions(false))
	s.Handle("monitoring:EnableAlarmActions", st.setActions(true))
	s.Handle("monitoring:PutMetricData", st.putMetricData)
	s.Handle("monitoring:GetMetricData", st.getMetricData)
	s.Handle("monitoring:GetMetricStatistics", st.getMetricStatistics)
}

// SeedAlarm creates an alarm with PutMetricAlarm and sets its state with
// SetAlarmState, over the wire.
func (s *Server) SeedAlarm(ctx context.Context, a Alarm) error {
	c := cloudwatch.NewFromConfig(s.seedConfig())
	in := &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String(a.Name), Namespace: aws.String(a.Namespace), MetricName: aws.String(a.Metric),
		Statistic: cwtypes.Statistic(a.Statistic), Period: aws.Int32(a.Period), EvaluationPeriods: aws.Int32(a.EvaluationPeriods),
		Threshold: aws.Float64(a.Threshold), ComparisonOperator: cwtypes.ComparisonOperator(a.ComparisonOperator),
		AlarmActions: a.AlarmActions, OKActions: a.OKActions,
	}
	if a.Description != "" {
		in.AlarmDescription = aws.String(a.Description)
	}
	if a.TreatMissingData != "" {
		in.TreatMissingData = aws.String(a.TreatMissingData)
	}
	if in.Statistic == "" {
		in.Statistic = cwtypes.StatisticAverage
	}
	if a.Period == 0 {
		in.Period = aws.Int32(300)
	}
	if a.EvaluationPeriods == 0 {
		in.EvaluationPeriods = aws.Int32(1)
	}
	if in.ComparisonOperator == "" {
		in.ComparisonOperator = cwtypes.ComparisonOperatorGreaterThanThreshold
	}
	for _, k := range sortedKeys(a.Dimensions) {
		in.Dimensions = append(in.Dimensions, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(a.Dimensions[k])})
	}
	if _, err := c.PutMetricAlarm(ctx, in); err != nil {
		return fmt.Errorf("seed alarm %s: %w", a.Name, err)
	}
	if a.State == "" {
		a.State = "OK"
	}
	return s.SetAlarmState(ctx, a.Name, a.State, "seeded")
}

// SetAlarmState moves an alarm to state (OK, ALARM, INSUFFICIENT_DATA) with
// SetAlarmState over the wire, e.g. to make the sandbox's alarm fire.
func (s *Server) SetAlarmState(ctx context.Context, name, state, reason string) error {
	c := cloudwatch.NewFromConfig(s.seedConfig())
	if _, err := c.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName: aws.String(name), StateValue: cwtypes.StateValue(state), StateReason: aws.String(reason),
	}); err != nil {
		return fmt.Errorf("set alarm state %s: %w", name, err)
	}
	return nil
}

// SetMetric pins a metric series (namespace, metric, exact dimensions) to
// value with PutMetricData: GetMetricData then returns value for every
// statistic but Sum and SampleCount, instead of the synthetic series.
func (s *Server) SetMetric(ctx context.Context, namespace, metric string, dims map[string]string, value float64) error {
	c := cloudwatch.NewFromConfig(s.seedConfig())
	d := cwtypes.MetricDatum{MetricName: aws.String(metric), Value: aws.Float64(value)}
	for _, k := range sortedKeys(dims) {
		d.Dimensions = append(d.Dimensions, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(dims[k])})
	}
	if _, err := c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(namespace), MetricData: []cwtypes.MetricDatum{d}}); err != nil {
		return fmt.Errorf("set metric %s/%s: %w", namespace, metric, err)
	}
	return nil
}

func (st *cwState) putAlarm(w http.ResponseWriter, r *http.Request, body []byte) {
	var in cwPutAlarm
	if !st.decode(w, r, body, &in) {
		return
	}
	if in.AlarmName == "" || in.ComparisonOperator == "" || in.EvaluationPeriods < 1 {
		WriteCBORError(w, http.StatusBadRequest, "ValidationError", "AlarmName, ComparisonOperator and EvaluationPeriods are required")
		return
	}
	if in.Metrics == nil && (in.MetricName == "" || in.Namespace == "" || in.Period < 1 || (in.Statistic == "") == (in.ExtendedStatistic == "")) {
		WriteCBORError(w, http.StatusBadRequest, "ValidationError", "a single-metric alarm needs MetricName, Namespace, Period and exactly one of Statistic or ExtendedStatistic")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	now := st.now().UTC().Truncate(time.Millisecond)
	a := &cwAlarm{StateValue: "INSUFFICIENT_DATA", StateReason: "Unchecked: Initial alarm creation", StateUpdatedTimestamp: now, StateTransitionedTimestamp: now}
	if old, ok := st.alarms[in.AlarmName]; ok { // PutMetricAlarm replaces the configuration, never the state
		a.StateValue, a.StateReason, a.StateReasonData = old.StateValue, old.StateReason, old.StateReasonData
		a.StateUpdatedTimestamp, a.StateTransitionedTimestamp = old.StateUpdatedTimestamp, old.StateTransitionedTimestamp
	}
	a.AlarmName, a.AlarmDescription = in.AlarmName, in.AlarmDescription
	a.AlarmArn = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:" + in.AlarmName
	a.AlarmConfigurationUpdatedTimestamp = now
	a.ActionsEnabled = in.ActionsEnabled == nil || *in.ActionsEnabled
	a.OKActions, a.AlarmActions, a.InsufficientDataActions = in.OKActions, in.AlarmActions, in.InsufficientDataActions
	a.MetricName, a.Namespace, a.Statistic, a.ExtendedStatistic = in.MetricName, in.Namespace, in.Statistic, in.ExtendedStatistic
	a.Dimensions, a.Period, a.Unit = in.Dimensions, in.Period, in.Unit
	a.EvaluationPeriods, a.DatapointsToAlarm, a.Threshold = in.EvaluationPeriods, in.DatapointsToAlarm, in.Threshold
	a.ComparisonOperator, a.TreatMissingData = in.ComparisonOperator, in.TreatMissingData
	a.EvaluateLowSampleCountPercentile, a.Metrics, a.ThresholdMetricId = in.EvaluateLowSampleCountPercentile, in.Metrics, in.ThresholdMetricId
	st.alarms[in.AlarmName] = a
	st.write(w, struct{}{})
}

func (st *cwState) describeAlarms(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct {
		AlarmNames                                []string
		AlarmNamePrefix, ActionPrefix, StateValue string
		AlarmTypes                                []string
		MaxRecords                                int32
		NextToken                                 string
	}
	if !st.decode(w, r, body, &in) {
		return
	}
	if len(in.AlarmNames) > 0 && in.AlarmNamePrefix != "" {
		WriteCBORError(w, http.StatusBadRequest, "InvalidParameterCombination", "AlarmNames and AlarmNamePrefix cannot be used together")
		return
	}
	max := 50
	if in.MaxRecords != 0 {
		if in.MaxRecords < 1 || in.MaxRecords > 100 {
			WriteCBORError(w, http.StatusBadRequest, "ValidationError", "MaxRecords must be between 1 and 100")
			return
		}
		max = int(in.MaxRecords)
	}
	if len(in.AlarmTypes) > 0 && !slices.Contains(in.AlarmTypes, "MetricAlarm") {
		st.write(w, struct{}{}) // composite alarms are not emulated
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var names []string
	for _, n := range sortedKeys(st.alarms) {
		a := st.alarms[n]
		switch {
		case len(in.AlarmNames) > 0 && !slices.Contains(in.AlarmNames, n),
			!strings.HasPrefix(n, in.AlarmNamePrefix),
			in.StateValue != "" && a.StateValue != in.StateValue,
			in.ActionPrefix != "" && !hasPrefixed(a.AlarmActions, in.ActionPrefix) && !hasPrefixed(a.OKActions, in.ActionPrefix) && !hasPrefixed(a.InsufficientDataActions, in.ActionPrefix):
			continue
		}
		names = append(names, n)
	}
	start := 0
	if in.NextToken != "" {
		// The token is the name to resume at, so pages stay stable while
		// alarms before it are added or deleted.
		if !strings.HasPrefix(in.NextToken, "n:") {
			WriteCBORError(w, http.StatusBadRequest, "InvalidNextToken", "The service couldn't process the token")
			return
		}
		start = sort.SearchStrings(names, in.NextToken[2:])
	}
	end := min(start+max, len(names))
	var out struct {
		MetricAlarms []*cwAlarm `cbor:",omitempty"`
		NextToken    string     `cbor:",omitempty"`
	}
	for _, n := range names[start:end] {
		out.MetricAlarms = append(out.MetricAlarms, st.alarms[n])
	}
	if end < len(names) {
		out.NextToken = "n:" + names[end]
	}
	st.write(w, out)
}

func (st *cwState) deleteAlarms(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ AlarmNames []string }
	if !st.decode(w, r, body, &in) {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, n := range in.AlarmNames {
		if _, ok := st.alarms[n]; !ok {
			WriteCBORError(w, http.StatusNotFound, "ResourceNotFound", "Alarm "+n+" not found")
			return
		}
	}
	for _, n := range in.AlarmNames {
		delete(st.alarms, n)
	}
	st.write(w, struct{}{})
}

func (st *cwState) setState(w http.ResponseWriter, r *http.Request, body []byte) {
	var in struct{ AlarmName, StateValue, StateReason, StateReasonData string }
	if !st.decode(w, r, body, &in) {
		return
	}
	switch in.StateValue {
	case "OK", "ALARM", "INSUFFICIENT_DATA":
	default:
		WriteCBORError(w, http.StatusBadRequest, "ValidationError", "StateValue must be OK, ALARM or INSUFFICIENT_DATA")
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	a, ok := st.alarms[in.AlarmName]
	if !ok {
		WriteCBORError(w, http.StatusNotFound, "ResourceNotFound", "Alarm "+in.AlarmName+" not found")
		return
	}
	now := st.now().UTC().Truncate(time.Millisecond)
	if a.StateValue != in.StateValue {
		a.StateTransitionedTimestamp = now
	}
	a.StateValue, a.StateReason, a.StateReasonData, a.StateUpdatedTimestamp = in.StateValue, in.StateReason, in.StateReasonData, now
	st.write(w, struct{}{})
}

// setActions answers Disable/EnableAlarmActions; like AWS it ignores names
// of alarms that do not exist.
func (st *cwState) setActions(enabled bool) Handler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		var in struct{ AlarmNames []string }
		if !st.decode(w, r, body, &in) {
			return
		}
		if len(in.AlarmNames) == 0 || len(in.AlarmNames) > 100 {
			WriteCBORError(w, http.StatusBadRequest, "ValidationError", "AlarmNames must hold 1 to 100 names")
			return
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		for _, n := range in.AlarmNames {
			if a, ok := st.alarms[n]; ok {
				a.ActionsEnabled = enabled
			}
		}
		st.write(w, struct{}{})
	}
}

func hasPrefixed(list []string, prefix string) bool {
	for _, v := range list {
		if strings.HasPrefix(v, prefix) {
			return true
		}
	}
	return false
}
