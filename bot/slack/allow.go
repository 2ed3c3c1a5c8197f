package slack

import (
	"context"
	"fmt"
	"slices"

	"github.com/slack-go/slack"

	"github.com/day2bot/day2bot/bot"
	"github.com/day2bot/day2bot/policies/store"
	"github.com/day2bot/day2bot/tasks"
)

// notAllowedText is the one private line a request from a workspace that
// is not on the allow-list gets.
const notAllowedText = "This workspace is not allowed to use day2bot."

// Auditor keeps the record of requests refused before the engine: the
// store's audit log in serve.
type Auditor interface {
	Audit(ctx context.Context, e store.Entry) error
}

var _ Auditor = (*store.Store)(nil)

// origin is where a request comes from, as Slack's signed payload says.
type origin struct {
	// team is the workspace the request was made in: team_id of a slash
	// command, team.id of an interaction.
	team string
	// enterprise is the Enterprise Grid org: enterprise_id of a slash
	// command, team.enterprise_id or enterprise.id of an interaction.
	enterprise string
	// userTeam is the clicking person's home team (user.team_id of an
	// interaction; an org id, E…, under Enterprise Grid). In a Slack
	// Connect channel it differs from team for people of the other
	// organisation. Slash commands do not carry it.
	userTeam string
}

// allowed reports whether o may use day2bot: with no allow-list at all,
// everyone (serve warns at start); otherwise the workspace must be listed
// or belong to a listed org, and so must the person's home team when the
// payload names it.
func (a *Adapter) allowed(o origin) bool {
	teams, orgs := a.opts.Teams, a.opts.Enterprises
	if len(teams) == 0 && len(orgs) == 0 {
		return true
	}
	listed := func(id string) bool { return id != "" && (slices.Contains(teams, id) || slices.Contains(orgs, id)) }
	if !listed(o.team) && !listed(o.enterprise) {
		return false
	}
	return o.userTeam == "" || o.userTeam == o.team || listed(o.userTeam)
}

// refused logs and audits a request from a workspace that is not allowed.
// The ids come from Slack's signed payload; they are quoted all the same.
func (a *Adapter) refused(ctx context.Context, o origin, user, kind string) {
	detail := fmt.Sprintf("slack %s refused: workspace not allowed (team %s, enterprise %s, user's team %s)",
		kind, tasks.QuoteInput(o.team), tasks.QuoteInput(o.enterprise), tasks.QuoteInput(o.userTeam))
	a.log.WarnContext(ctx, "slack request refused: workspace not allowed", "kind", kind,
		"team", tasks.QuoteInput(o.team), "enterprise", tasks.QuoteInput(o.enterprise),
		"user_team", tasks.QuoteInput(o.userTeam), "user", tasks.QuoteInput(user))
	if a.opts.Auditor == nil {
		return
	}
	e := store.Entry{At: a.now(), Actor: a.Name() + ":" + user, Kind: store.KindRefused, Detail: detail}
	if err := a.opts.Auditor.Audit(ctx, e); err != nil {
		a.log.ErrorContext(ctx, "audit refused slack request", "err", err)
	}
}

// refuseLater tells the person, through the response_url, that the
// workspace is not allowed: for clicks and Socket Mode commands, whose ack
// cannot carry a message.
func (a *Adapter) refuseLater(ctx context.Context, responseURL, channel, user string) {
	issued := a.now()
	ctx = context.WithoutCancel(ctx)
	a.inflight.Go(ctx, func(ctx context.Context) {
		r := a.newResponder(responseURL, channel, user, issued)
		if err := r.Ephemeral(ctx, bot.Message{Text: notAllowedText, Tone: bot.ToneWarning}); err != nil {
			a.log.WarnContext(ctx, "slack refusal not delivered", "err", err)
		}
	})
}

func commandOrigin(sc slack.SlashCommand) origin {
	return origin{team: sc.TeamID, enterprise: sc.EnterpriseID}
}

func interactionOrigin(cb slack.InteractionCallback) origin {
	org := cb.Team.EnterpriseID
	if org == "" {
		org = cb.Enterprise.ID
	}
	return origin{team: cb.Team.ID, enterprise: org, userTeam: cb.User.TeamID}
}
