package cfn

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/day2bot/day2bot/tasks"
)

// AppParameter is the parameter the deploy fills with the app's name; it is
// never a task parameter. Templates tag resources and name alarms with it.
const AppParameter = "AppName"

// TaskParam is a template parameter as a task parameter.
type TaskParam struct {
	tasks.Param
	Key string // the template's name, e.g. InstanceType
}

// awsTypes are the AWS-specific parameter types day2bot can bound: what
// CloudFormation checks against the account, day2bot checks by shape.
var awsTypes = map[string]struct{ pattern, format string }{
	"AWS::EC2::VPC::Id":           {`vpc-[0-9a-f]{8,17}`, "a VPC id like vpc-0abc1234"},
	"AWS::EC2::Subnet::Id":        {`subnet-[0-9a-f]{8,17}`, "a subnet id like subnet-0abc1234"},
	"AWS::EC2::Image::Id":         {`ami-[0-9a-f]{8,17}`, "an AMI id like ami-0abc1234"},
	"AWS::EC2::SecurityGroup::Id": {`sg-[0-9a-f]{8,17}`, "a security group id like sg-0abc1234"},
}

// TaskParams turns the template's parameters (AppParameter aside) into
// typed, bounded task parameters, in name order: AllowedValues become an
// enum, MinValue/MaxValue int bounds, AllowedPattern a pattern described by
// ConstraintDescription. A parameter that cannot be bounded is an error:
// nothing typed in chat reaches CloudFormation unchecked.
func TaskParams(t *Template) ([]TaskParam, error) {
	var out []TaskParam
	var errs []string
	for _, key := range t.ParameterNames() {
		if key == AppParameter {
			continue
		}
		p, err := taskParam(key, t.Parameters[key])
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		out = append(out, p)
	}
	if len(errs) > 0 {
		return nil, &ParamsError{Problems: errs}
	}
	return out, nil
}

// ParamsError lists every parameter that cannot become a task parameter.
type ParamsError struct{ Problems []string }

func (e *ParamsError) Error() string { return strings.Join(e.Problems, "; ") }

func taskParam(key string, p Parameter) (TaskParam, error) {
	tp := TaskParam{Key: key, Param: tasks.Param{Name: SnakeCase(key), Description: p.Description}}
	fail := func(format string, args ...any) (TaskParam, error) {
		return TaskParam{}, fmt.Errorf("Parameters.%s: %s", key, fmt.Sprintf(format, args...))
	}
	if p.NoEcho {
		return fail("NoEcho parameters are secrets and never typed in chat; use a dynamic reference ({{resolve:secretsmanager:…}}) or ManageMasterUserPassword")
	}
	if p.Default != nil {
		tp.Default = scalar(p.Default)
	} else {
		tp.Required = true
	}
	enum := make([]string, len(p.AllowedValues))
	for i, v := range p.AllowedValues {
		enum[i] = scalar(v)
	}
	switch {
	case p.Type == "Number":
		tp.Type = tasks.TypeInt
		if len(enum) > 0 {
			tp.Type, tp.Enum = tasks.TypeEnum, enum
			break
		}
		if p.MinValue == nil || p.MaxValue == nil {
			return fail("a Number needs MinValue and MaxValue (or AllowedValues)")
		}
		if *p.MinValue != math.Trunc(*p.MinValue) || *p.MaxValue != math.Trunc(*p.MaxValue) {
			return fail("MinValue and MaxValue must be whole numbers")
		}
		tp.Min, tp.Max = p.MinValue, p.MaxValue
	case p.Type == "String":
		tp.Type = tasks.TypeString
		switch {
		case len(enum) > 0:
			tp.Type, tp.Enum = tasks.TypeEnum, enum
		case p.AllowedPattern != "":
			if strings.TrimSpace(p.ConstraintDescription) == "" {
				return fail("AllowedPattern needs a ConstraintDescription: it is what people read in chat instead of the pattern")
			}
			if _, err := regexp.Compile(p.AllowedPattern); err != nil {
				return fail("AllowedPattern %q does not compile: %v", p.AllowedPattern, err)
			}
			tp.Pattern, tp.Format = p.AllowedPattern, p.ConstraintDescription
		default:
			return fail("a String needs AllowedValues, or AllowedPattern with a ConstraintDescription")
		}
	case awsTypes[p.Type].pattern != "":
		at := awsTypes[p.Type]
		tp.Type, tp.Pattern, tp.Format = tasks.TypeString, at.pattern, at.format
	default:
		return fail("type %s cannot be a task parameter; use String, Number or one of the AWS::EC2::…::Id types", p.Type)
	}
	if err := tp.Validate(); err != nil {
		return fail("%v", err)
	}
	return tp, nil
}

// scalar renders a parameter value as CloudFormation reads it.
func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// SnakeCase turns a template name into a task parameter name:
// InstanceType → instance_type, DBInstanceClass → db_instance_class.
func SnakeCase(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 {
			prevLower := unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1])
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			if prevLower || (unicode.IsUpper(r[i-1]) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}
