package tasks

// Param describes one typed, bounded parameter of a task. Blueprints declare
// them; the engine validates what a user typed against them before any policy
// is evaluated, so an action only ever sees values inside these bounds.
type Param struct {
	Name        string   `yaml:"name" json:"name"`
	Type        Type     `yaml:"type" json:"type"`
	Description string   `yaml:"description,omitempty" json:"description,omitempty"`
	Default     string   `yaml:"default,omitempty" json:"default,omitempty"`
	Required    bool     `yaml:"required,omitempty" json:"required,omitempty"`
	Min         *float64 `yaml:"min,omitempty" json:"min,omitempty"`
	Max         *float64 `yaml:"max,omitempty" json:"max,omitempty"`
	Enum        []string `yaml:"enum,omitempty" json:"enum,omitempty"`
	Pattern     string   `yaml:"pattern,omitempty" json:"pattern,omitempty"`
}

// Type is the kind of value a Param accepts.
type Type string

const (
	TypeString   Type = "string"
	TypeInt      Type = "int"
	TypeBool     Type = "bool"
	TypeDuration Type = "duration" // Go duration syntax: 30m, 2h
	TypeEnum     Type = "enum"
)
