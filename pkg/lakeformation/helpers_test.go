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

	"github.com/lakeforge/lakeforge/internal/lffake"
	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/internal/awscalls"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

// lfAPI is every Lake Formation call the steps and the tests make: the SDK
// client (moto) and the in-memory fake (internal/lffake) both have them.
type lfAPI interface {
	SettingsAPI
	GrantAPI
	TagsAPI
	LocationAPI
	ResourceTagsAPI
	ListLFTags(ctx context.Context, in *lf.ListLFTagsInput, optFns ...func(*lf.Options)) (*lf.ListLFTagsOutput, error)
	ListResources(ctx context.Context, in *lf.ListResourcesInput, optFns ...func(*lf.Options)) (*lf.ListResourcesOutput, error)
	DeregisterResource(ctx context.Context, in *lf.DeregisterResourceInput, optFns ...func(*lf.Options)) (*lf.DeregisterResourceOutput, error)
	RemoveLFTagsFromResource(ctx context.Context, in *lf.RemoveLFTagsFromResourceInput, optFns ...func(*lf.Options)) (*lf.RemoveLFTagsFromResourceOutput, error)
}

// glueAPI is every Glue call the steps and the tests make.
type glueAPI interface {
	DatabaseAPI
	TablesAPI
	GetDatabases(ctx context.Context, in *glue.GetDatabasesInput, optFns ...func(*glue.Options)) (*glue.GetDatabasesOutput, error)
	GetTable(ctx context.Context, in *glue.GetTableInput, optFns ...func(*glue.Options)) (*glue.GetTableOutput, error)
	CreateTable(ctx context.Context, in *glue.CreateTableInput, optFns ...func(*glue.Options)) (*glue.CreateTableOutput, error)
	UpdateTable(ctx context.Context, in *glue.UpdateTableInput, optFns ...func(*glue.Options)) (*glue.UpdateTableOutput, error)
}

// iamAPI is every IAM call the steps and the tests make.
type iamAPI interface {
	PrincipalsAPI
	CreateRole(ctx context.Context, in *iam.CreateRoleInput, optFns ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	CreateUser(ctx context.Context, in *iam.CreateUserInput, optFns ...func(*iam.Options)) (*iam.CreateUserOutput, error)
}

var (
	_ lfAPI   = (*lf.Client)(nil)
	_ lfAPI   = (*lffake.LakeFormation)(nil)
	_ glueAPI = (*glue.Client)(nil)
	_ glueAPI = (*lffake.Glue)(nil)
	_ iamAPI  = (*iam.Client)(nil)
	_ iamAPI  = (*lffake.IAM)(nil)
)

// backend is where a test account lives.
type backend string

const (
	// fakeBackend is internal/lffake: in memory, the unit tier.
	fakeBackend backend = "fake"
	// motoBackend is the moto server (needs Python): the emulator tier.
	motoBackend backend = "moto"
)

// account is the AWS account of one test, on a backend.
type account struct {
	Backend backend
	LF      *faultyLF
	Glue    *faultyGlue
	IAM     *faultyIAM
	// Rec records the calls of LF, Glue and IAM as IAM actions: the
	// handler's calls only.
	Rec *awscalls.Recorder
	// Sent records the same calls with their inputs, as the steps sent
	// them (the parity check compares them across backends).
	Sent *sentCalls
	// SeedLF, SeedGlue and SeedIAM set up and inspect the account without
	// being recorded, so the golden IAM actions hold only what handlers call.
	SeedLF   lfAPI
	SeedGlue glueAPI
	SeedIAM  iamAPI
	// motoLF is moto's own client without the stand-ins of motoGapsLF, for
	// the tests that check moto still differs from AWS (moto only).
	motoLF *lf.Client
	mark   int
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

// newAccount resets moto and returns clients that record their calls: the
// moto-only tests.
func newAccount(t *testing.T) *account { return newAccountOn(t, motoBackend) }

// newAccountOn returns a fresh account on b with clients that record their
// calls; faults can be injected in front of them. On moto the clients are
// the real SDK clients (skipped in the unit tier); on the fake they are
// internal/lffake's.
func newAccountOn(t *testing.T, b backend) *account {
	t.Helper()
	rec, sent := &awscalls.Recorder{}, &sentCalls{}
	a := &account{Backend: b, Rec: rec, Sent: sent}
	var recLF, seedLF lfAPI
	var recGlue, seedGlue glueAPI
	var recIAM, seedIAM iamAPI
	switch b {
	case fakeBackend:
		f := lffake.New(acct)
		record := func(service, op string, _ any) { rec.Add(service, op) }
		recLF, seedLF = f.LakeFormation(record), f.LakeFormation(nil)
		recGlue, seedGlue = f.Glue(record), f.Glue(nil)
		recIAM, seedIAM = f.IAM(record), f.IAM(nil)
	case motoBackend:
		srv := motoserver.Current(t)
		srv.Reset(t)
		cfg := rec.Attach(srv.Config())
		a.motoLF = lf.NewFromConfig(srv.Config())
		recLF = &motoGapsLF{Client: lf.NewFromConfig(cfg), seed: a.motoLF}
		seedLF = &motoGapsLF{Client: a.motoLF, seed: a.motoLF}
		recGlue, seedGlue = glue.NewFromConfig(cfg), glue.NewFromConfig(srv.Config())
		recIAM, seedIAM = iam.NewFromConfig(cfg), iam.NewFromConfig(srv.Config())
	default:
		t.Fatalf("unknown backend %q", b)
	}
	a.LF = &faultyLF{lfAPI: recLF, faults: &faults{sent: sent}}
	a.Glue = &faultyGlue{glueAPI: recGlue, faults: &faults{sent: sent}}
	a.IAM = &faultyIAM{iamAPI: recIAM, faults: &faults{sent: sent}}
	a.SeedLF, a.SeedGlue, a.SeedIAM = seedLF, seedGlue, seedIAM
	return a
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
	// sent hears every call, injected faults included.
	sent *sentCalls
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

func (f *faults) next(op string, in any) error {
	if f.sent != nil {
		f.sent.add(op, in)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.m[op]
	if len(q) == 0 {
		return nil
	}
	f.m[op] = q[1:]
	return q[0]
}

// faultyLF is the backend's Lake Formation client with injectable faults.
type faultyLF struct {
	lfAPI
	*faults
	// listed records the ListPermissions requests the handler sent.
	listed []lf.ListPermissionsInput
	// registered and updated record the RegisterResource and
	// UpdateResource requests.
	registered []lf.RegisterResourceInput
	updated    []lf.UpdateResourceInput
}

func (c *faultyLF) GetDataLakeSettings(ctx context.Context, in *lf.GetDataLakeSettingsInput, o ...func(*lf.Options)) (*lf.GetDataLakeSettingsOutput, error) {
	if err := c.next("GetDataLakeSettings", in); err != nil {
		return nil, err
	}
	return c.lfAPI.GetDataLakeSettings(ctx, in, o...)
}
func (c *faultyLF) PutDataLakeSettings(ctx context.Context, in *lf.PutDataLakeSettingsInput, o ...func(*lf.Options)) (*lf.PutDataLakeSettingsOutput, error) {
	if err := c.next("PutDataLakeSettings", in); err != nil {
		return nil, err
	}
	return c.lfAPI.PutDataLakeSettings(ctx, in, o...)
}
func (c *faultyLF) ListPermissions(ctx context.Context, in *lf.ListPermissionsInput, o ...func(*lf.Options)) (*lf.ListPermissionsOutput, error) {
	if err := c.next("ListPermissions", in); err != nil {
		return nil, err
	}
	c.listed = append(c.listed, *in)
	return c.lfAPI.ListPermissions(ctx, in, o...)
}

// motoGapsLF is moto's Lake Formation client with the two calls moto 5.2.5
// lacks answered as the API reference documents them, from moto's state:
// ListPermissions by an LF-tag resource type, and UpdateResource. The
// request the steps send is what faultyLF records and the tests check.
type motoGapsLF struct {
	*lf.Client
	// seed is an unrecorded client for what a stand-in does on moto.
	seed *lf.Client
}

func (c *motoGapsLF) ListPermissions(ctx context.Context, in *lf.ListPermissionsInput, o ...func(*lf.Options)) (*lf.ListPermissionsOutput, error) {
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
// accepts for LF-tag grants), kept by resource type.
func (c *motoGapsLF) listByLFTagResourceType(ctx context.Context, in *lf.ListPermissionsInput, o ...func(*lf.Options)) (*lf.ListPermissionsOutput, error) {
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
	if err := c.next("RevokePermissions", in); err != nil {
		return nil, err
	}
	return c.lfAPI.RevokePermissions(ctx, in, o...)
}
func (c *faultyLF) GrantPermissions(ctx context.Context, in *lf.GrantPermissionsInput, o ...func(*lf.Options)) (*lf.GrantPermissionsOutput, error) {
	if err := c.next("GrantPermissions", in); err != nil {
		return nil, err
	}
	return c.lfAPI.GrantPermissions(ctx, in, o...)
}
func (c *faultyLF) GetLFTag(ctx context.Context, in *lf.GetLFTagInput, o ...func(*lf.Options)) (*lf.GetLFTagOutput, error) {
	if err := c.next("GetLFTag", in); err != nil {
		return nil, err
	}
	return c.lfAPI.GetLFTag(ctx, in, o...)
}
func (c *faultyLF) CreateLFTag(ctx context.Context, in *lf.CreateLFTagInput, o ...func(*lf.Options)) (*lf.CreateLFTagOutput, error) {
	if err := c.next("CreateLFTag", in); err != nil {
		return nil, err
	}
	return c.lfAPI.CreateLFTag(ctx, in, o...)
}
func (c *faultyLF) UpdateLFTag(ctx context.Context, in *lf.UpdateLFTagInput, o ...func(*lf.Options)) (*lf.UpdateLFTagOutput, error) {
	if err := c.next("UpdateLFTag", in); err != nil {
		return nil, err
	}
	return c.lfAPI.UpdateLFTag(ctx, in, o...)
}
func (c *faultyLF) DescribeResource(ctx context.Context, in *lf.DescribeResourceInput, o ...func(*lf.Options)) (*lf.DescribeResourceOutput, error) {
	if err := c.next("DescribeResource", in); err != nil {
		return nil, err
	}
	return c.lfAPI.DescribeResource(ctx, in, o...)
}
func (c *faultyLF) RegisterResource(ctx context.Context, in *lf.RegisterResourceInput, o ...func(*lf.Options)) (*lf.RegisterResourceOutput, error) {
	if err := c.next("RegisterResource", in); err != nil {
		return nil, err
	}
	c.registered = append(c.registered, *in)
	return c.lfAPI.RegisterResource(ctx, in, o...)
}

func (c *faultyLF) UpdateResource(ctx context.Context, in *lf.UpdateResourceInput, o ...func(*lf.Options)) (*lf.UpdateResourceOutput, error) {
	if err := c.next("UpdateResource", in); err != nil {
		return nil, err
	}
	c.updated = append(c.updated, *in)
	return c.lfAPI.UpdateResource(ctx, in, o...)
}

// UpdateResource applies the request as the API reference documents it
// ("Updates the data access role used for vending access to the given
// (registered) resource"): moto 5.2.5 has no UpdateResource
// (TestMotoHasNoUpdateResource). The exact request goes to moto through the
// client (recorded, so the IAM actions hold it) and its refusal is
// ignored; then the stand-in reads the registration (EntityNotFoundException
// when there is none, like Lake Formation) and re-registers it with the new
// role through an unrecorded client.
func (c *motoGapsLF) UpdateResource(ctx context.Context, in *lf.UpdateResourceInput, o ...func(*lf.Options)) (*lf.UpdateResourceOutput, error) {
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
	if err := c.next("GetResourceLFTags", in); err != nil {
		return nil, err
	}
	return c.lfAPI.GetResourceLFTags(ctx, in, o...)
}
func (c *faultyLF) AddLFTagsToResource(ctx context.Context, in *lf.AddLFTagsToResourceInput, o ...func(*lf.Options)) (*lf.AddLFTagsToResourceOutput, error) {
	if err := c.next("AddLFTagsToResource", in); err != nil {
		return nil, err
	}
	return c.lfAPI.AddLFTagsToResource(ctx, in, o...)
}

// faultyGlue is the backend's Glue client with injectable faults.
type faultyGlue struct {
	glueAPI
	*faults
}

func (c *faultyGlue) GetDatabase(ctx context.Context, in *glue.GetDatabaseInput, o ...func(*glue.Options)) (*glue.GetDatabaseOutput, error) {
	if err := c.next("GetDatabase", in); err != nil {
		return nil, err
	}
	return c.glueAPI.GetDatabase(ctx, in, o...)
}
func (c *faultyGlue) GetTables(ctx context.Context, in *glue.GetTablesInput, o ...func(*glue.Options)) (*glue.GetTablesOutput, error) {
	if err := c.next("GetTables", in); err != nil {
		return nil, err
	}
	return c.glueAPI.GetTables(ctx, in, o...)
}
func (c *faultyGlue) CreateDatabase(ctx context.Context, in *glue.CreateDatabaseInput, o ...func(*glue.Options)) (*glue.CreateDatabaseOutput, error) {
	if err := c.next("CreateDatabase", in); err != nil {
		return nil, err
	}
	return c.glueAPI.CreateDatabase(ctx, in, o...)
}

// faultyIAM is the backend's IAM client with injectable faults.
type faultyIAM struct {
	iamAPI
	*faults
}

func (c *faultyIAM) GetRole(ctx context.Context, in *iam.GetRoleInput, o ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	if err := c.next("GetRole", in); err != nil {
		return nil, err
	}
	return c.iamAPI.GetRole(ctx, in, o...)
}
func (c *faultyIAM) GetUser(ctx context.Context, in *iam.GetUserInput, o ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	if err := c.next("GetUser", in); err != nil {
		return nil, err
	}
	return c.iamAPI.GetUser(ctx, in, o...)
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
