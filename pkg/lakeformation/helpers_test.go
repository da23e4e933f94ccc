package lakeformation

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/glue"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/smithy-go"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/internal/awscalls"
	"github.com/lakeforge/lakeforge/pkg/internal/motoserver"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

// account is the moto account of every test.
type account struct {
	LF   *faultyLF
	Glue *faultyGlue
	// Rec records the calls of LF and Glue: the handler's calls only.
	Rec *awscalls.Recorder
	// SeedLF and SeedGlue set up and inspect the account without being
	// recorded, so the golden IAM actions hold only what handlers call.
	SeedLF   *lf.Client
	SeedGlue *glue.Client
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
		LF:       &faultyLF{Client: lf.NewFromConfig(cfg), faults: &faults{}},
		Glue:     &faultyGlue{Client: glue.NewFromConfig(cfg), faults: &faults{}},
		Rec:      rec,
		SeedLF:   lf.NewFromConfig(srv.Config()),
		SeedGlue: glue.NewFromConfig(srv.Config()),
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
	// unfilteredList sends ListPermissions without its filters (see the
	// grant tests for why).
	unfilteredList bool
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
	if c.unfilteredList {
		in = &lf.ListPermissionsInput{NextToken: in.NextToken}
	}
	return c.Client.ListPermissions(ctx, in, o...)
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
	return c.Client.RegisterResource(ctx, in, o...)
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
