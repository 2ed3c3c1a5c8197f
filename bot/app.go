package bot

import (
	"slices"
	"strings"

	"github.com/day2bot/day2bot/tasks"
)

// App is one application as the engine sees it: what the blueprints
// package resolved from the app config (blueprint tasks bound to the app's
// resources). The composition root converts; the engine never reads YAML.
type App struct {
	Name        string
	Description string
	Blueprints  []string
	Account     string // AWS account id; "" means the default credentials' account
	Region      string
	// Owners are handles or principals; policy subject "owner" matches them.
	Owners []string
	// Channels are "platform:channel" strings, e.g. "slack:C0123".
	Channels []string
	Tasks    []Task
}

// Task is one operation of an app, bound to its action and resources.
type Task struct {
	Name        string
	Description string
	Blueprint   string
	Action      string // registry name, e.g. "ec2.reboot"
	Target      tasks.Selector
	// Related are the app's resources, passed to the action (a
	// rolling restart waits on the app's target groups).
	Related []tasks.Selector
	// Params is the schema users fill in: the action's parameters as the
	// blueprint narrowed them.
	Params []tasks.Param
	// Confirm is the blueprint's warning about what the task does to the
	// app ("Rebooting drops the connections…"); shown with its plan and
	// on its approval requests.
	Confirm string
}

// task returns the named task of a.
func (a *App) task(name string) (*Task, bool) {
	for i := range a.Tasks {
		if strings.EqualFold(a.Tasks[i].Name, name) {
			return &a.Tasks[i], true
		}
	}
	return nil, false
}

func (a *App) taskNames() []string {
	out := make([]string, len(a.Tasks))
	for i, t := range a.Tasks {
		out[i] = t.Name
	}
	slices.Sort(out)
	return out
}

// catalog is the engine's read-only index of apps.
type catalog struct {
	apps  map[string]*App
	names []string
}

func newCatalog(apps []App) catalog {
	c := catalog{apps: make(map[string]*App, len(apps))}
	for i := range apps {
		a := apps[i]
		c.apps[strings.ToLower(a.Name)] = &a
		c.names = append(c.names, a.Name)
	}
	slices.Sort(c.names)
	return c
}

func (c catalog) app(name string) (*App, bool) {
	a, ok := c.apps[strings.ToLower(name)]
	return a, ok
}

// confirmText is the Confirm of an app's task, "" if none (or the app or
// task is gone from the config).
func (c catalog) confirmText(app, task string) string {
	a, ok := c.app(app)
	if !ok {
		return ""
	}
	t, ok := a.task(task)
	if !ok {
		return ""
	}
	return t.Confirm
}
