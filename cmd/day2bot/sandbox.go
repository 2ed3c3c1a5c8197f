package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/day2bot/day2bot/blueprints"
	"github.com/day2bot/day2bot/bot/shell"
	"github.com/day2bot/day2bot/bot/web"
	"github.com/day2bot/day2bot/policies"
	"github.com/day2bot/day2bot/policies/store"
	awsactions "github.com/day2bot/day2bot/tasks/aws"
	"github.com/day2bot/day2bot/tasks/emulator"
)

//go:embed sandbox/policy.yaml sandbox/apps.yaml
var sandboxFiles embed.FS

// sandboxRegion is where the demo resources live.
const sandboxRegion = "us-east-1"

func newSandboxCmd(g *globals) *cobra.Command {
	var as string
	var verbose bool
	var dashAddr, attachments string
	c := &cobra.Command{
		Use:   "sandbox",
		Short: "Try day2bot in the terminal against an emulated AWS with demo apps, users and policies",
		Long: `sandbox starts an in-process AWS emulator seeded with two demo apps (shop: four
web instances and a database; research: researchers' S3 buckets), a temporary
database with three demo users and their policies, and a terminal chat.

  alice  ops: may run everything and approves requests
  bob    developer: read-only tasks; changes to shop need one approval from ops
  carol  researcher: manages access to her own research buckets only

Type commands as in chat (help, apps, tasks shop, shop restart-web batch=2).
"as bob" switches user; "press ID approve" presses a button. When stdin is
not a terminal, one command is read per line, so a script can drive it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !validShellUser(as) {
				return usageError("--as %q: use a lowercase name like alice", as)
			}
			if f := cmd.Flag("db"); f != nil && f.Changed {
				// The sandbox seeds a database of its own each time, in
				// a temporary directory; silently ignoring --db would let
				// someone believe their database was used.
				return usageError("sandbox keeps its own temporary database; --db is for serve and shell")
			}
			return runSandbox(cmd.Context(), g, as, verbose, dashAddr, attachments)
		},
	}
	c.Flags().StringVar(&as, "as", "alice", "the user you speak as first (alice, bob, carol)")
	c.Flags().BoolVar(&verbose, "verbose", false, "log the engine's work to stderr")
	c.Flags().StringVar(&attachments, "attachments", "", "directory for charts and attached results (default: a new temporary directory, kept)")
	c.Flags().StringVar(&dashAddr, "dashboard", "127.0.0.1:0", `where the per-app dashboard listens ("off": not at all); "dashboard APP" prints a sign-in link`)
	return c
}

func runSandbox(ctx context.Context, g *globals, as string, verbose bool, dashAddr, attachments string) (err error) {
	// Errors always reach the terminal: a run that "failed — see logs"
	// has its log line right there.
	log := slog.New(slog.NewTextHandler(g.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	if verbose {
		log = slog.New(slog.NewTextHandler(g.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	emu := emulator.New()
	defer emu.Close()
	awsCfg := emu.ClientConfig(sandboxRegion, "AKIDSANDBOX")
	if err := seedSandbox(ctx, emu, awsCfg); err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "day2bot-sandbox-")
	if err != nil {
		return fmt.Errorf("make sandbox directory: %w", err)
	}
	defer os.RemoveAll(dir)
	cat, err := blueprints.Library()
	if err != nil {
		return fmt.Errorf("load blueprint library: %w", err)
	}
	appsYAML, err := sandboxFiles.ReadFile("sandbox/apps.yaml")
	if err != nil {
		return fmt.Errorf("read sandbox apps: %w", err)
	}
	apps, err := blueprints.ParseConfig("sandbox/apps.yaml", appsYAML)
	if err != nil {
		return err
	}
	interactive := isTerminal(g.Stdin)
	if interactive {
		fmt.Fprint(g.Stdout, sandboxBanner)
	}
	chat, err := openChat(g)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, chat.Close()) }()
	plat := shell.New(chat.out)
	plat.SaveAttachments(attachments)
	// The dashboard listens before the engine exists, so its links can
	// name the port; it serves once the engine is built.
	var links *web.Links
	var dashLn net.Listener
	if dashAddr != "off" {
		if dashLn, err = net.Listen("tcp", dashAddr); err != nil {
			return usageError("--dashboard %s: %w", dashAddr, err)
		}
		defer dashLn.Close()
		key, _ := dashboardKey("", nil) // one process: a random key is right
		if links, err = newDashboardLinks(key, "http://"+dashLn.Addr().String()); err != nil {
			return err
		}
	}
	a := assembly{
		DB: filepath.Join(dir, "day2bot.db"), Logger: log, Catalog: cat, Apps: apps.Apps,
		// The emulator reports a batch's status checks as they are the
		// moment it is asked, so batched actions need not give AWS time
		// to notice.
		Pace: awsactions.Pace{Settle: -1}, AWS: staticAWS{cfg: awsCfg},
		Platforms: platformsOf(plat), Admins: []string{"alice"}, CostTag: "app",
	}
	if links != nil {
		a.DashboardLink = links.Link
	}
	b, err := assemble(ctx, a)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.close()) }()
	if err := importSandboxPolicy(ctx, b.store.Store); err != nil {
		return err
	}
	// Digests on demand and `alarm NAME` (sandbox_ops.go).
	ops, err := newSandboxOps(ctx, emu, awsCfg, b.routines, plat)
	if err != nil {
		return err
	}
	e := b.engine
	if err := e.Start(ctx); err != nil {
		return err
	}
	var dash *dashboardParts
	if links != nil {
		dash = &dashboardParts{links: links, digest: b.routines.Digest, log: log}
	}
	if dash != nil {
		h, err := dash.handler(e)
		if err != nil {
			return err
		}
		stop := serveDashboard(ctx, dashLn, h, log)
		defer stop()
		// On stderr: a script's transcript on stdout stays the same run
		// to run, whatever port this got.
		fmt.Fprintf(g.Stderr, "dashboard on http://%s — type \"dashboard shop\" for your sign-in link\n", dashLn.Addr())
	}

	s := &shell.Session{Engine: ops.wrap(e), Platform: plat, Channel: "ops", User: as, Drain: e.Drain,
		Verbs: []shell.Verb{
			{Usage: "alarm NAME [ok]", Help: "set an emulated alarm to ALARM (or back to OK): its alert comes with remediation buttons"},
			{Usage: "throttle SERVICE:Operation", Help: "make AWS throttle that call past the SDK's retries (e.g. ec2:RebootInstances): the run fails and offers Retry"},
		}}
	if err := chat.run(ctx, s, g.Stdin); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if ctx.Err() != nil {
		return nil // Ctrl-C: a normal way to leave
	}
	return e.Drain(ctx)
}

const sandboxBanner = `day2bot sandbox — emulated AWS, demo apps shop and research, users alice, bob, carol.
Try: help · tasks shop · as bob · shop restart-web batch=2 · as alice · press last approve
     as carol · research revoke-access bucket=research-carol-imaging principal=arn:aws:iam::123456789012:role/visiting-student
     digest shop · alarm shop-cpu-high (then press last restart-web or mute-alarm) · alarm shop-cpu-high ok
Tab completes, Up recalls; help lists everything. quit or Ctrl-D leaves.
`

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func validShellUser(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func importSandboxPolicy(ctx context.Context, st *store.Store) error {
	data, err := sandboxFiles.ReadFile("sandbox/policy.yaml")
	if err != nil {
		return fmt.Errorf("read sandbox policy: %w", err)
	}
	f, err := policies.ParseFile(data)
	if err != nil {
		return fmt.Errorf("parse sandbox policy: %w", err)
	}
	if err := st.ImportFile(ctx, "sandbox", f); err != nil {
		return fmt.Errorf("import sandbox policy: %w", err)
	}
	return nil
}

// sandboxBuckets are the research app's buckets: one person's data each.
var sandboxBuckets = []string{"research-alice-genomes", "research-bob-models", "research-carol-imaging", "research-carol-trials"}

// sandboxVisitor has read access to every research bucket: the access the
// walkthrough revokes.
const sandboxVisitor = "arn:aws:iam::123456789012:role/visiting-student"

func sandboxBucketPolicy(bucket string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"VisitorRead","Effect":"Allow","Principal":{"AWS":"` + sandboxVisitor +
		`"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::` + bucket + `","arn:aws:s3:::` + bucket + `/*"]}]}`
}

// seedSandbox creates the demo resources over the wire, as AWS would have
// them: shop's web tier (4 tagged instances in a target group behind a load balancer) and database,
// its CPU alarm, api's function and Aurora cluster, and the research buckets with a visitor's
// read access.
func seedSandbox(ctx context.Context, emu *emulator.Server, cfg aws.Config) error {
	ids, err := emu.SeedInstances(ctx, 4, emulator.InstanceSpec{Tags: map[string]string{"app": "shop", "tier": "web", "Name": "shop-web"}})
	if err != nil {
		return err
	}
	tg, err := emu.SeedTargetGroup(ctx, emulator.TargetGroup{Name: "shop-web", Tags: map[string]string{"app": "shop"}, Targets: ids})
	if err != nil {
		return err
	}
	if _, err := emu.SeedLoadBalancer(ctx, emulator.LoadBalancer{Name: "shop-web", Tags: map[string]string{"app": "shop"}, TargetGroups: []string{tg}}); err != nil {
		return err
	}
	if err := emu.SeedDBInstance(ctx, emulator.DBInstance{ID: "shop-db", Tags: map[string]string{"app": "shop"}}); err != nil && !alreadyExists(err) {
		return err
	}
	if err := emu.SeedAlarm(ctx, emulator.Alarm{Name: "shop-cpu-high", Description: "shop web tier CPU above 90%",
		Namespace: "AWS/EC2", Metric: "CPUUtilization", Statistic: "Average", Period: 300, EvaluationPeriods: 2,
		Threshold: 90, ComparisonOperator: "GreaterThanThreshold", State: "OK"}); err != nil {
		return err
	}
	if err := seedSandboxAPI(ctx, emu); err != nil {
		return err
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for _, b := range sandboxBuckets {
		owner := strings.Split(b, "-")[1]
		err := emu.SeedBucket(ctx, emulator.Bucket{Name: b, Tags: map[string]string{"app": "research", "owner": owner},
			Policy: sandboxBucketPolicy(b), Encrypted: true})
		if err != nil && !alreadyExists(err) {
			return err
		}
		// kumo's S3 outlives one sandbox in the same process (tests): put
		// the starting policy back.
		if _, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(sandboxBucketPolicy(b))}); err != nil {
			return fmt.Errorf("seed policy of %s: %w", b, err)
		}
	}
	return nil
}

// seedSandboxAPI creates the api app: its Lambda handler (three published
// versions, the live alias on the newest) with a little error traffic, and
// its Aurora cluster (writer and one reader) with last night's snapshot.
func seedSandboxAPI(ctx context.Context, emu *emulator.Server) error {
	tags := map[string]string{"app": "api"}
	if err := emu.SeedLambdaFunction(ctx, emulator.LambdaFunction{Name: "api-handler", Versions: 3,
		Aliases: map[string]string{"live": "3"}, Tags: tags}); err != nil {
		return err
	}
	for metric, v := range map[string]float64{"Invocations": 120, "Errors": 0.2, "Throttles": 0, "Duration": 140} {
		if err := emu.SetMetric(ctx, "AWS/Lambda", metric, map[string]string{"FunctionName": "api-handler"}, v); err != nil {
			return err
		}
	}
	if err := emu.SeedDBCluster(ctx, emulator.DBCluster{ID: "api-db", Readers: 1, Tags: tags}); err != nil {
		return err
	}
	return emu.SeedDBClusterSnapshot(ctx, "api-db", "api-db-nightly")
}

// alreadyExists tolerates seeding twice in one process (kumo's state is
// process-global; tests run the sandbox more than once).
func alreadyExists(err error) bool {
	code := awsactions.ErrorCode(err)
	return strings.Contains(code, "AlreadyExists") || strings.Contains(code, "AlreadyOwnedByYou")
}
