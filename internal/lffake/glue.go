package lffake

import (
	"context"
	"encoding/json"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
)

const glueService = "Glue"

// Glue is a Glue Data Catalog client of the account: databases and tables.
type Glue struct {
	a      *Account
	onCall OnCall
}

// Glue returns a client; onCall (may be nil) hears every call.
func (a *Account) Glue(onCall OnCall) *Glue { return &Glue{a: a, onCall: onCall} }

func (c *Glue) called(op string, in any) {
	if c.onCall != nil {
		c.onCall(glueService, op, in)
	}
}

func (c *Glue) notFound(op, msg string) error {
	return apiError(glueService, op, 400, &gluetypes.EntityNotFoundException{Message: aws.String(msg)})
}

// database is the named database, or Glue's EntityNotFoundException; the
// caller holds the account's lock.
func (c *Glue) database(op, name string) (*database, error) {
	db, ok := c.a.databases[name]
	if !ok {
		return nil, c.notFound(op, "Database "+name+" not found.")
	}
	return db, nil
}

// table is the named table of a database, or Glue's EntityNotFoundException
// for whichever is missing; the caller holds the account's lock.
func (c *Glue) table(op, dbName, name string) (*table, error) {
	db, err := c.database(op, dbName)
	if err != nil {
		return nil, err
	}
	t, ok := db.tables[name]
	if !ok {
		return nil, c.notFound(op, "Table "+name+" not found.")
	}
	return t, nil
}

func (c *Glue) exists(op, msg string) error {
	return apiError(glueService, op, 400, &gluetypes.AlreadyExistsException{Message: aws.String(msg)})
}

// CreateDatabase creates a database. Without CreateTableDefaultPermissions
// the database gets the account's default for new tables (the data lake
// settings' CreateTableDefaultPermissions); an empty list stays empty.
func (c *Glue) CreateDatabase(_ context.Context, in *glue.CreateDatabaseInput, _ ...func(*glue.Options)) (*glue.CreateDatabaseOutput, error) {
	const op = "CreateDatabase"
	c.called(op, in)
	if in.DatabaseInput == nil || in.DatabaseInput.Name == nil {
		return nil, missingParam(glueService, op, "CreateDatabaseInput", "DatabaseInput.Name")
	}
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	name := aws.ToString(in.DatabaseInput.Name)
	if _, ok := c.a.databases[name]; ok {
		return nil, c.exists(op, "Database already exists.")
	}
	d := in.DatabaseInput
	db := gluetypes.Database{Name: aws.String(name), CatalogId: aws.String(c.a.id), LocationUri: d.LocationUri, Description: d.Description,
		Parameters: d.Parameters, CreateTableDefaultPermissions: clone(d.CreateTableDefaultPermissions)}
	if d.CreateTableDefaultPermissions == nil {
		for _, p := range c.a.settings.CreateTableDefaultPermissions {
			gp := gluetypes.PrincipalPermissions{Principal: &gluetypes.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(principalOf(p.Principal))}}
			for _, perm := range p.Permissions {
				gp.Permissions = append(gp.Permissions, gluetypes.Permission(perm))
			}
			db.CreateTableDefaultPermissions = append(db.CreateTableDefaultPermissions, gp)
		}
	}
	c.a.databases[name] = &database{db: db, tags: tagSet{}, tables: map[string]*table{}}
	return &glue.CreateDatabaseOutput{}, nil
}

func (c *Glue) GetDatabase(_ context.Context, in *glue.GetDatabaseInput, _ ...func(*glue.Options)) (*glue.GetDatabaseOutput, error) {
	const op = "GetDatabase"
	c.called(op, in)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	db, err := c.database(op, aws.ToString(in.Name))
	if err != nil {
		return nil, err
	}
	out := clone(db.db)
	return &glue.GetDatabaseOutput{Database: &out}, nil
}

// GetDatabases answers every database, by name.
func (c *Glue) GetDatabases(_ context.Context, in *glue.GetDatabasesInput, _ ...func(*glue.Options)) (*glue.GetDatabasesOutput, error) {
	c.called("GetDatabases", in)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	out := &glue.GetDatabasesOutput{DatabaseList: []gluetypes.Database{}}
	for _, n := range slices.Sorted(maps.Keys(c.a.databases)) {
		out.DatabaseList = append(out.DatabaseList, clone(c.a.databases[n].db))
	}
	return out, nil
}

// tableOf turns a TableInput into the Table Glue stores (the members share
// their names).
func (c *Glue) tableOf(dbName string, in *gluetypes.TableInput) gluetypes.Table {
	raw, err := json.Marshal(in)
	if err != nil {
		panic(err)
	}
	var t gluetypes.Table
	if err := json.Unmarshal(raw, &t); err != nil {
		panic(err)
	}
	t.DatabaseName, t.CatalogId = aws.String(dbName), aws.String(c.a.id)
	return t
}

func (c *Glue) CreateTable(_ context.Context, in *glue.CreateTableInput, _ ...func(*glue.Options)) (*glue.CreateTableOutput, error) {
	const op = "CreateTable"
	c.called(op, in)
	if in.TableInput == nil || in.TableInput.Name == nil {
		return nil, missingParam(glueService, op, "CreateTableInput", "TableInput.Name")
	}
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	dbName := aws.ToString(in.DatabaseName)
	db, err := c.database(op, dbName)
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.TableInput.Name)
	if _, ok := db.tables[name]; ok {
		return nil, c.exists(op, "Table already exists.")
	}
	db.tables[name] = &table{t: c.tableOf(dbName, in.TableInput), tags: tagSet{}, columns: map[string]tagSet{}}
	return &glue.CreateTableOutput{}, nil
}

// UpdateTable replaces a table's definition; its LF-tags stay.
func (c *Glue) UpdateTable(_ context.Context, in *glue.UpdateTableInput, _ ...func(*glue.Options)) (*glue.UpdateTableOutput, error) {
	const op = "UpdateTable"
	c.called(op, in)
	if in.TableInput == nil || in.TableInput.Name == nil {
		return nil, missingParam(glueService, op, "UpdateTableInput", "TableInput.Name")
	}
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	dbName := aws.ToString(in.DatabaseName)
	t, err := c.table(op, dbName, aws.ToString(in.TableInput.Name))
	if err != nil {
		return nil, err
	}
	t.t = c.tableOf(dbName, in.TableInput)
	return &glue.UpdateTableOutput{}, nil
}

func (c *Glue) GetTable(_ context.Context, in *glue.GetTableInput, _ ...func(*glue.Options)) (*glue.GetTableOutput, error) {
	const op = "GetTable"
	c.called(op, in)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	t, err := c.table(op, aws.ToString(in.DatabaseName), aws.ToString(in.Name))
	if err != nil {
		return nil, err
	}
	out := clone(t.t)
	return &glue.GetTableOutput{Table: &out}, nil
}

// GetTables answers every table of a database, by name.
func (c *Glue) GetTables(_ context.Context, in *glue.GetTablesInput, _ ...func(*glue.Options)) (*glue.GetTablesOutput, error) {
	const op = "GetTables"
	c.called(op, in)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	db, err := c.database(op, aws.ToString(in.DatabaseName))
	if err != nil {
		return nil, err
	}
	out := &glue.GetTablesOutput{TableList: []gluetypes.Table{}}
	for _, n := range slices.Sorted(maps.Keys(db.tables)) {
		out.TableList = append(out.TableList, clone(db.tables[n].t))
	}
	return out, nil
}
