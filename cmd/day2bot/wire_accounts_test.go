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

// The blueprint's confirm: text reaches the engine's tasks (it is shown with
// plans and approval requests).
func TestResolveAppsKeepsConfirm(t *testing.T) {
	cat, err := loadCatalog(nil)
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := resolvedApps(cat, map[string]blueprints.App{"shop": {Blueprints: []string{"ec2-web"}, Region: "us-east-1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range engineApps(resolved)[0].Tasks {
		if task.Name == "restart-web" {
			if task.Confirm != "Rebooting drops the connections on each instance of a batch." {
				t.Fatalf("restart-web confirm = %q", task.Confirm)
			}
			return
		}
	}
	t.Fatal("shop has no restart-web")
}
