package main

import (
	"reflect"
	"testing"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/tasks/awsclient"
)

// serve and shell once built their AWS provider differently and serve lost
// the roles' external ids; both now use appAccounts.
func TestAppAccountsKeepsExternalIDs(t *testing.T) {
	apps := map[string]blueprints.App{
		"shop":     {Account: blueprints.Account{RoleARN: "arn:aws:iam::123456789012:role/shop", ExternalID: "shop-ext"}},
		"research": {Account: blueprints.Account{RoleARN: "arn:aws:iam::123456789012:role/research"}},
		"local":    {},
	}
	got, ok := appAccounts(nil, apps).(awsclient.ByRole)
	if !ok {
		t.Fatalf("appAccounts returned %T", appAccounts(nil, apps))
	}
	want := map[string]string{"arn:aws:iam::123456789012:role/shop": "shop-ext"}
	if !reflect.DeepEqual(got.ExternalIDs, want) {
		t.Fatalf("external ids %v, want %v", got.ExternalIDs, want)
	}
}
