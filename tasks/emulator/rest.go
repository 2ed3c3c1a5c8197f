package emulator

import (
	"net/http"
	"strings"
)

// REST-JSON services (Lambda, EKS) name the operation by method and path,
// not by a header or form field. restRoutes maps the routes day2bot's
// actions and seeds use to their operation names, so overrides, faults and
// recorded calls are keyed "lambda:UpdateAlias" like every other service.
// A path segment {x} matches any one segment.
var restRoutes = map[string][]restRoute{
	"lambda": {
		{"POST", "/2015-03-31/functions", "CreateFunction"},
		{"GET", "/2015-03-31/functions", "ListFunctions"},
		{"GET", "/2015-03-31/functions/{name}", "GetFunction"},
		{"GET", "/2015-03-31/functions/{name}/versions", "ListVersionsByFunction"},
		{"POST", "/2015-03-31/functions/{name}/versions", "PublishVersion"},
		{"GET", "/2015-03-31/functions/{name}/aliases", "ListAliases"},
		{"POST", "/2015-03-31/functions/{name}/aliases", "CreateAlias"},
		{"GET", "/2015-03-31/functions/{name}/aliases/{alias}", "GetAlias"},
		{"PUT", "/2015-03-31/functions/{name}/aliases/{alias}", "UpdateAlias"},
		{"PUT", "/2017-10-31/functions/{name}/concurrency", "PutFunctionConcurrency"},
		{"DELETE", "/2017-10-31/functions/{name}/concurrency", "DeleteFunctionConcurrency"},
		{"GET", "/2019-09-30/functions/{name}/concurrency", "GetFunctionConcurrency"},
		{"GET", "/2019-09-30/functions/{name}/provisioned-concurrency", "ListProvisionedConcurrencyConfigs"},
		{"GET", "/2017-03-31/tags/{arn}", "ListTags"},
	},
	"eks": {
		{"POST", "/clusters", "CreateCluster"},
		{"GET", "/clusters", "ListClusters"},
		{"GET", "/clusters/{name}", "DescribeCluster"},
		{"POST", "/clusters/{name}/node-groups", "CreateNodegroup"},
		{"GET", "/clusters/{name}/node-groups", "ListNodegroups"},
		{"GET", "/clusters/{name}/node-groups/{ng}", "DescribeNodegroup"},
		{"POST", "/clusters/{name}/node-groups/{ng}/update-config", "UpdateNodegroupConfig"},
		{"POST", "/clusters/{name}/node-groups/{ng}/update-version", "UpdateNodegroupVersion"},
		{"GET", "/clusters/{name}/updates/{id}", "DescribeUpdate"},
		{"POST", "/clusters/{name}/addons", "CreateAddon"},
		{"GET", "/clusters/{name}/addons", "ListAddons"},
		{"GET", "/clusters/{name}/addons/{addon}", "DescribeAddon"},
	},
	"backup": {
		{"GET", "/backup-vaults", "ListBackupVaults"},
		{"GET", "/tags/{arn}", "ListTags"},
		{"GET", "/backup-vaults/{name}/recovery-points", "ListRecoveryPointsByBackupVault"},
		{"GET", "/backup-vaults/{name}/recovery-points/{arn}/restore-metadata", "GetRecoveryPointRestoreMetadata"},
		{"PUT", "/backup-jobs", "StartBackupJob"},
		{"GET", "/backup-jobs", "ListBackupJobs"},
		{"PUT", "/restore-jobs", "StartRestoreJob"},
	},
	"es": {
		{"GET", "/2021-01-01/domain", "ListDomainNames"},
		{"GET", "/2021-01-01/opensearch/domain/{name}", "DescribeDomain"},
		{"GET", "/2021-01-01/tags", "ListTags"},
		{"GET", "/2021-01-01/opensearch/domain/{name}/health", "DescribeDomainHealth"},
		{"POST", "/2021-01-01/opensearch/domain/{name}/config", "UpdateDomainConfig"},
		{"GET", "/2021-01-01/opensearch/domain/{name}/progress", "DescribeDomainChangeProgress"},
		// A domain's own REST API (not an AWS API): manual snapshots.
		{"GET", "/_snapshot/{repo}", "GetSnapshotRepository"},
		{"PUT", "/_snapshot/{repo}/{snapshot}", "CreateSnapshot"},
	},
}

type restRoute struct{ method, pattern, op string }

// restOperation names a REST-JSON request's operation, "" if unknown.
func restOperation(svc string, r *http.Request) string {
	got := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	for _, rt := range restRoutes[svc] {
		if rt.method != r.Method {
			continue
		}
		want := strings.Split(strings.Trim(rt.pattern, "/"), "/")
		if len(want) != len(got) {
			continue
		}
		match := true
		for i := range want {
			if !strings.HasPrefix(want[i], "{") && want[i] != got[i] {
				match = false
				break
			}
		}
		if match {
			return rt.op
		}
	}
	return ""
}

// pathSegment returns segment i of the request path (0 is the first after
// the leading slash), "" if the path is shorter.
func pathSegment(r *http.Request, i int) string {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if i < len(parts) {
		return parts[i]
	}
	return ""
}
