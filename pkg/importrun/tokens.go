package importrun

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// Pending is one task token waiting for its workflow run's end.
type Pending struct {
	RunID         string
	ExecutionName string
	TaskToken     string
	WorkflowName  string
	Attached      bool
	Since         time.Time
}

// TokenStore keeps the task tokens of waiting executions. The token is a
// credential: the store is access-controlled (only StartImport writes
// tokens, only the event handler reads them; the handler writes only the
// token-less claims of Claim) and its items are never logged.
type TokenStore interface {
	Put(ctx context.Context, p Pending) error
	// List returns every token still held.
	List(ctx context.Context) ([]Pending, error)
	// Delete forgets p, unless a newer token replaced it.
	Delete(ctx context.Context, p Pending) error
	// Claim records that run runID is tagged (or followed by the state
	// machine, which tags it); it reports false when it was already.
	Claim(ctx context.Context, runID string) (bool, error)
}

// claimExecutionName is the sort key of a run's tagging claim: no
// execution has that name (Step Functions names have no "#"), and the
// item has no token, so List never returns it.
const claimExecutionName = "#tagged"

// DynamoAPI is the part of the DynamoDB client the token table uses.
type DynamoAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ DynamoAPI = (*dynamodb.Client)(nil)

// Token table attributes. runId is the partition key, executionName the
// sort key: two executions attached to one run each keep their own token,
// and a retried StartImport of one execution replaces its older token.
const (
	AttrRunID         = "runId"
	AttrExecutionName = "executionName"
	attrToken         = "taskToken"
	attrWorkflow      = "workflowName"
	attrAttached      = "attached"
	attrSince         = "since"
	// AttrExpiresAt is the table's TTL attribute (epoch seconds): a token
	// nobody released is dead after the execution's own timeout anyway.
	AttrExpiresAt = "expiresAt"
)

// TokenTTL is how long an unreleased token is kept: longer than any
// execution (26 hours) may wait.
const TokenTTL = 48 * time.Hour

// maxScanPages bounds List: the table holds one item per waiting
// execution, so one page is the normal case.
const maxScanPages = 20

// DynamoTokens is the token table.
type DynamoTokens struct {
	DB    DynamoAPI
	Table string
}

var _ TokenStore = (*DynamoTokens)(nil)

func (d *DynamoTokens) Put(ctx context.Context, p Pending) error {
	_, err := d.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(d.Table),
		Item: map[string]ddb.AttributeValue{
			AttrRunID:         &ddb.AttributeValueMemberS{Value: p.RunID},
			AttrExecutionName: &ddb.AttributeValueMemberS{Value: p.ExecutionName},
			attrToken:         &ddb.AttributeValueMemberS{Value: p.TaskToken},
			attrWorkflow:      &ddb.AttributeValueMemberS{Value: p.WorkflowName},
			attrAttached:      &ddb.AttributeValueMemberBOOL{Value: p.Attached},
			attrSince:         &ddb.AttributeValueMemberS{Value: p.Since.UTC().Format(time.RFC3339)},
			AttrExpiresAt:     &ddb.AttributeValueMemberN{Value: strconv.FormatInt(p.Since.Add(TokenTTL).Unix(), 10)},
		},
	})
	if err != nil {
		return dynamoError("dynamodb:PutItem", d.Table, err)
	}
	return nil
}

func (d *DynamoTokens) List(ctx context.Context) ([]Pending, error) {
	var out []Pending
	var start map[string]ddb.AttributeValue
	for page := 0; page < maxScanPages; page++ {
		res, err := d.DB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(d.Table), ConsistentRead: aws.Bool(true), ExclusiveStartKey: start})
		if err != nil {
			return nil, dynamoError("dynamodb:Scan", d.Table, err)
		}
		for _, item := range res.Items {
			p := Pending{
				RunID: str(item[AttrRunID]), ExecutionName: str(item[AttrExecutionName]),
				TaskToken: str(item[attrToken]), WorkflowName: str(item[attrWorkflow]),
			}
			if b, ok := item[attrAttached].(*ddb.AttributeValueMemberBOOL); ok {
				p.Attached = b.Value
			}
			p.Since, _ = time.Parse(time.RFC3339, str(item[attrSince]))
			if p.RunID != "" && p.TaskToken != "" {
				out = append(out, p)
			}
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
	return out, nil
}

func (d *DynamoTokens) Delete(ctx context.Context, p Pending) error {
	_, err := d.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(d.Table),
		Key: map[string]ddb.AttributeValue{
			AttrRunID:         &ddb.AttributeValueMemberS{Value: p.RunID},
			AttrExecutionName: &ddb.AttributeValueMemberS{Value: p.ExecutionName},
		},
		// A retried StartImport may have put a newer token meanwhile.
		ConditionExpression:       aws.String("#t = :t"),
		ExpressionAttributeNames:  map[string]string{"#t": attrToken},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":t": &ddb.AttributeValueMemberS{Value: p.TaskToken}},
	})
	var failed *ddb.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &failed) {
		return dynamoError("dynamodb:DeleteItem", d.Table, err)
	}
	return nil
}

func (d *DynamoTokens) Claim(ctx context.Context, runID string) (bool, error) {
	_, err := d.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(d.Table),
		Item: map[string]ddb.AttributeValue{
			AttrRunID:         &ddb.AttributeValueMemberS{Value: runID},
			AttrExecutionName: &ddb.AttributeValueMemberS{Value: claimExecutionName},
			AttrExpiresAt:     &ddb.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(TokenTTL).Unix(), 10)},
		},
		ConditionExpression:      aws.String("attribute_not_exists(#r)"),
		ExpressionAttributeNames: map[string]string{"#r": AttrRunID},
	})
	var taken *ddb.ConditionalCheckFailedException
	if errors.As(err, &taken) {
		return false, nil
	}
	if err != nil {
		return false, dynamoError("dynamodb:PutItem", d.Table, err)
	}
	return true, nil
}

func str(v ddb.AttributeValue) string {
	if s, ok := v.(*ddb.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func dynamoError(op, table string, err error) error {
	var notFound *ddb.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return &steperr.PermanentError{Op: op, Err: err, Fix: "the token table " + table + " does not exist: deploy the stack (`make deploy`)"}
	}
	return classify(op, "", err)
}
