package lakeformation

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"
	"github.com/aws/smithy-go"

	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/internal/awscalls"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

// account is the moto account of every test.
type account struct {
	LF   *faultyLF
	Glue *faultyGlue
	IAM  *faultyIAM
	// Rec records the calls of LF and Glue: the handler's calls only.
	Rec *awscalls.Recorder
	// SeedLF and SeedGlue set up and inspect the account without being
	// recorded, so the golden IAM actions hold only what handlers call.
	SeedLF   *lf.Client
	SeedGlue *glue.Client
	SeedIAM  *iam.Client
	mark     int
}

// markCalls starts a new window of recorded calls for since.
func (a *account) markCalls() { a.mark = len(a.Rec.Calls()) }

// since returns the calls recorded after the last markCalls.
func (a *account) since() []string { return a.Rec.Calls()[a.mark:] }

// mutatingSince returns the mutating calls after the last markCalls.
func (a *account) mutatingSince() []string {
	var out []string
	for _, c := range a.since() {
		if awscalls.IsMutating(c) {
			out = append(out, c)
		}
	}
	return out
}

// newAccount resets moto and returns clients that record their calls. The
// clients are the real SDK clients; faults can be injected in front of them.
func newAccount(t *testing.T) *account {
	t.Helper()
	srv := motoserver.Current(t)
	srv.Reset(t)
	rec := &awscalls.Recorder{}
	cfg := rec.Attach(srv.Config())
	return &account{
		LF:       &faultyLF{Client: lf.NewFromConfig(cfg), faults: &faults{}, seed: lf.NewFromConfig(srv.Config())},
		Glue:     &faultyGlue{Client: glue.NewFromConfig(cfg), faults: &faults{}},
		IAM:      &faultyIAM{Client: iam.NewFromConfig(cfg), faults: &faults{}},
		Rec:      rec,
		SeedLF:   lf.NewFromConfig(srv.Config()),
		SeedGlue: glue.NewFromConfig(srv.Config()),
		SeedIAM:  iam.NewFromConfig(srv.Config()),
	}
}

// fastRetry is the default policy on a fake clock: no test sleeps.
func fastRetry() awsretry.Policy {
	var mu sync.Mutex
	now := time.Unix(0, 0)
	p := awsretry.Default()
	p.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p.Sleep = func(context.Context, time.Duration) error {
		mu.Lock()
		now = now.Add(time.Second)
		mu.Unlock()
		return nil
	}
	p.Log = quietLog
	return p
}

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

func apiErr(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

// faults holds errors to return, per operation, before the real call is made.
type faults struct {
	mu sync.Mutex
	m  map[string][]error
}

// inject makes the next n calls of op fail with err.
func (f *faults) inject(op string, err error, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string][]error{}
	}
	for i := 0; i < n; i++ {
		f.m[op] = append(f.m[op], err)
	}
}

func (f *faults) next(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.m[op]
	if len(q) == 0 {
		return nil
	}
	f.m[op] = q[1:]
	return q[0]
}

// faultyLF is the real Lake Formation client with injectable faults.
type faultyLF struct {
	*lf.Client
	*faults
	// listed records the ListPermissions requests the handler sent.
	listed []lf.ListPermissionsInput
	// registered and updated record the RegisterResource and
	// UpdateResource requests.
	registered []lf.RegisterResourceInput
	updated    []lf.UpdateResourceInput
	// seed is an unrecorded client for what a stand-in does on moto.
	seed *lf.Client
}

func (c *faultyLF) GetDataLakeSettings(ctx context.Context, in *lf.GetDataLakeSettingsInput, o ...func(*lf.Options)) (*lf.GetDataLakeSettingsOutput, error) {
	if err := c.next("GetDataLakeSettings"); err != nil {
		return nil, err
	}
	return c.Client.GetDataLakeSettings(ctx, in, o...)
}
func (c *faultyLF) PutDataLakeSettings(ctx context.Context, in *lf.PutDataLakeSettingsInput, o ...func(*lf.Options)) (*lf.PutDataLakeSettingsOutput, error) {
	if err := c.next("PutDataLakeSettings"); err != nil {
		return nil, err
	}
	return c.Client.PutDataLakeSettings(ctx, in, o...)
}
func (c *faultyLF) ListPermissions(ctx context.Context, in *lf.ListPermissionsInput, o ...func(*lf.Options)) (*lf.ListPermissionsOutput, error) {
	if err := c.next("ListPermissions"); err != nil {
		return nil, err
	}
	c.listed = append(c.listed, *in)
	if byLFTagResourceType(in) {
		return c.listByLFTagResourceType(ctx, in, o...)
	}
	return c.Client.ListPermissions(ctx, in, o...)
}

// lfTagResourceTypes are the ListPermissions resource types moto 5.2.5
// rejects ("'LF_TAG_POLICY_TABLE' is not a valid RessourceType", HTTP 500;
// TestMotoRejectsListPermissionsByLFTagResourceType).
var lfTagResourceTypes = []types.DataLakeResourceType{
	types.DataLakeResourceTypeLfTag, types.DataLakeResourceTypeLfTagPolicyDatabase, types.DataLakeResourceTypeLfTagPolicyTable,
}

// byLFTagResourceType is the request the steps send: a resource type of
// lfTagResourceTypes, no principal, no resource.
func byLFTagResourceType(in *lf.ListPermissionsInput) bool {
	return slices.Contains(lfTagResourceTypes, in.ResourceType) && in.Principal == nil && in.Resource == nil
}

// listByLFTagResourceType answers that request as the API reference
// documents it ("ResourceType: Specifies a resource type to filter the
// permissions returned"): moto's grants, read unfiltered (the one query moto
// accepts for LF-tag grants), kept by resource type. The request the
// handler sent is what c.listed holds and the tests check.
func (c *faultyLF) listByLFTagResourceType(ctx context.Context, in *lf.ListPermissionsInput, o ...func(*lf.Options)) (*lf.ListPermissionsOutput, error) {
	all, err := c.Client.ListPermissions(ctx, &lf.ListPermissionsInput{NextToken: in.NextToken}, o...)
	if err != nil {
		return nil, err
	}
	out := &lf.ListPermissionsOutput{NextToken: all.NextToken}
	for _, p := range all.PrincipalResourcePermissions {
		r := p.Resource
		switch {
		case r == nil:
		case in.ResourceType == types.DataLakeResourceTypeLfTag && r.LFTag != nil,
			in.ResourceType == types.DataLakeResourceTypeLfTagPolicyDatabase && r.LFTagPolicy != nil && r.LFTagPolicy.ResourceType == types.ResourceTypeDatabase,
			in.ResourceType == types.DataLakeResourceTypeLfTagPolicyTable && r.LFTagPolicy != nil && r.LFTagPolicy.ResourceType == types.ResourceTypeTable:
			out.PrincipalResourcePermissions = append(out.PrincipalResourcePermissions, p)
		}
	}
	return out, nil
}
func (c *faultyLF) RevokePermissions(ctx context.Context, in *lf.RevokePermissionsInput, o ...func(*lf.Options)) (*lf.RevokePermissionsOutput, error) {
	if err := c.next("RevokePermissions"); err != nil {
		return nil, err
	}
	return c.Client.RevokePermissions(ctx, in, o...)
}
func (c *faultyLF) GrantPermissions(ctx context.Context, in *lf.GrantPermissionsInput, o ...func(*lf.Options)) (*lf.GrantPermissionsOutput, error) {
	if err := c.next("GrantPermissions"); err != nil {
		return nil, err
	}
	return c.Client.GrantPermissions(ctx, in, o...)
}
func (c *faultyLF) GetLFTag(ctx context.Context, in *lf.GetLFTagInput, o ...func(*lf.Options)) (*lf.GetLFTagOutput, error) {
	if err := c.next("GetLFTag"); err != nil {
		return nil, err
	}
	return c.Client.GetLFTag(ctx, in, o...)
}
func (c *faultyLF) CreateLFTag(ctx context.Context, in *lf.CreateLFTagInput, o ...func(*lf.Options)) (*lf.CreateLFTagOutput, error) {
	if err := c.next("CreateLFTag"); err != nil {
		return nil, err
	}
	return c.Client.CreateLFTag(ctx, in, o...)
}
func (c *faultyLF) UpdateLFTag(ctx context.Context, in *lf.UpdateLFTagInput, o ...func(*lf.Options)) (*lf.UpdateLFTagOutput, error) {
	if err := c.next("UpdateLFTag"); err != nil {
		return nil, err
	}
	return c.Client.UpdateLFTag(ctx, in, o...)
}
func (c *faultyLF) DescribeResource(ctx context.Context, in *lf.DescribeResourceInput, o ...func(*lf.Options)) (*lf.DescribeResourceOutput, error) {
	if err := c.next("DescribeResource"); err != nil {
		return nil, err
	}
	return c.Client.DescribeResource(ctx, in, o...)
}
func (c *faultyLF) RegisterResource(ctx context.Context, in *lf.RegisterResourceInput, o ...func(*lf.Options)) (*lf.RegisterResourceOutput, error) {
	if err := c.next("RegisterResource"); err != nil {
		return nil, err
	}
	c.registered = append(c.registered, *in)
	return c.Client.RegisterResource(ctx, in, o...)
}

// UpdateResource records the request and applies it as the API reference
// documents it ("Updates the data access role used for vending access to
// the given (registered) resource"): moto 5.2.5 has no UpdateResource
// (TestMotoHasNoUpdateResource). The exact request goes to moto through the
// recording client (so the IAM actions hold it) and its refusal is
// ignored; then the stand-in reads the registration (EntityNotFoundException
// when there is none, like Lake Formation) and re-registers it with the new
// role through an unrecorded client.
func (c *faultyLF) UpdateResource(ctx context.Context, in *lf.UpdateResourceInput, o ...func(*lf.Options)) (*lf.UpdateResourceOutput, error) {
	if err := c.next("UpdateResource"); err != nil {
		return nil, err
	}
	c.updated = append(c.updated, *in)
	_, _ = c.Client.UpdateResource(ctx, in, o...)
	if _, err := c.seed.DescribeResource(ctx, &lf.DescribeResourceInput{ResourceArn: in.ResourceArn}); err != nil {
		return nil, err
	}
	if _, err := c.seed.DeregisterResource(ctx, &lf.DeregisterResourceInput{ResourceArn: in.ResourceArn}); err != nil {
		return nil, err
	}
	if _, err := c.seed.RegisterResource(ctx, &lf.RegisterResourceInput{ResourceArn: in.ResourceArn, RoleArn: in.RoleArn}); err != nil {
		return nil, err
	}
	return &lf.UpdateResourceOutput{}, nil
}
func (c *faultyLF) GetResourceLFTags(ctx context.Context, in *lf.GetResourceLFTagsInput, o ...func(*lf.Options)) (*lf.GetResourceLFTagsOutput, error) {
	if err := c.next("GetResourceLFTags"); err != nil {
		return nil, err
	}
	return c.Client.GetResourceLFTags(ctx, in, o...)
}
func (c *faultyLF) AddLFTagsToResource(ctx context.Context, in *lf.AddLFTagsToResourceInput, o ...func(*lf.Options)) (*lf.AddLFTagsToResourceOutput, error) {
	if err := c.next("AddLFTagsToResource"); err != nil {
		return nil, err
	}
	return c.Client.AddLFTagsToResource(ctx, in, o...)
}

// faultyGlue is the real Glue client with injectable faults.
type faultyGlue struct {
	*glue.Client
	*faults
}

func (c *faultyGlue) GetDatabase(ctx context.Context, in *glue.GetDatabaseInput, o ...func(*glue.Options)) (*glue.GetDatabaseOutput, error) {
	if err := c.next("GetDatabase"); err != nil {
		return nil, err
	}
	return c.Client.GetDatabase(ctx, in, o...)
}
func (c *faultyGlue) CreateDatabase(ctx context.Context, in *glue.CreateDatabaseInput, o ...func(*glue.Options)) (*glue.CreateDatabaseOutput, error) {
	if err := c.next("CreateDatabase"); err != nil {
		return nil, err
	}
	return c.Client.CreateDatabase(ctx, in, o...)
}

// faultyIAM is the real IAM client with injectable faults.
type faultyIAM struct {
	*iam.Client
	*faults
}

func (c *faultyIAM) GetRole(ctx context.Context, in *iam.GetRoleInput, o ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	if err := c.next("GetRole"); err != nil {
		return nil, err
	}
	return c.Client.GetRole(ctx, in, o...)
}
func (c *faultyIAM) GetUser(ctx context.Context, in *iam.GetUserInput, o ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	if err := c.next("GetUser"); err != nil {
		return nil, err
	}
	return c.Client.GetUser(ctx, in, o...)
}

// createPrincipals creates the IAM roles and users of arns in moto, without
// recording the calls: principals that exist.
func createPrincipals(t *testing.T, a *account, arns ...string) {
	t.Helper()
	for _, arn := range arns {
		p := &Principals{Account: AccountOf(arn)}
		kind, name, ok := p.parse(arn)
		if !ok {
			t.Fatalf("not a role or user ARN: %s", arn)
		}
		var err error
		if kind == "role" {
			_, err = a.SeedIAM.CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(name),
				AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
		} else {
			_, err = a.SeedIAM.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String(name)})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
