package main

// `policy group add|remove|list`: group membership.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/day2bot/day2bot/policies/store"
)

func newPolicyGroupCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "Add, remove and list group members",
	}
	cmd.AddCommand(
		newGroupMemberCmd(g, "add", "Add a member (a handle or a PLATFORM:ID principal) to a group, creating it if needed",
			false, (*store.Store).AddMember, "added %s to group %s"),
		newGroupMemberCmd(g, "remove", "Remove a member from a group",
			true, (*store.Store).RemoveMember, "removed %s from group %s"),
		&cobra.Command{
			Use:   "list",
			Short: "List groups and their members",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return withStore(cmd.Context(), g, true, func(s *store.Store) error {
					groups, err := s.Groups(cmd.Context())
					if err != nil {
						return err
					}
					if len(groups) == 0 {
						fmt.Fprintln(g.Stdout, "no groups")
					}
					for _, n := range slices.Sorted(maps.Keys(groups)) {
						fmt.Fprintf(g.Stdout, "%s: %s\n", n, strings.Join(groups[n], ", "))
					}
					return nil
				})
			},
		},
	)
	return cmd
}

// memberChange is the store method behind group add or group remove.
type memberChange func(s *store.Store, ctx context.Context, actor, group, member string) error

// newGroupMemberCmd builds `group add` or `group remove`, which differ only
// in the store method, whether the database must exist, and the words
// (done is a format of member then group).
func newGroupMemberCmd(g *globals, verb, short string, existing bool, change memberChange, done string) *cobra.Command {
	return withActorFlag(&cobra.Command{
		Use:   verb + " GROUP MEMBER",
		Short: short,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			group, member := args[0], args[1]
			return withStore(cmd.Context(), g, existing, func(s *store.Store) error {
				if err := change(s, cmd.Context(), actor(cmd, g), group, member); err != nil {
					return err
				}
				fmt.Fprintf(g.Stdout, done+"\n", member, group)
				return nil
			})
		},
	})
}
