import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GLUE_ICEBERG_CATALOG } from '../../../lib/contracts/index.ts';
import { glueIcebergSparkConf } from '../../../lib/glue/job-arguments.ts';
import { icebergAwsJars } from '../../../lib/local/spark.ts';
import { motoClientConfig, motoEndpoint, uniqueName } from '../../support/services.ts';
import { runSpark } from '../../support/spark.ts';
import { BRIEF_EXPECTED, model } from '../curate/brief-fixture.ts';
import { RUNS, stageRuns } from './runs-fixture.ts';

// The generated scripts with the Glue job's own catalog settings
// (glueIcebergSparkConf): Iceberg's GlueCatalog and S3FileIO, against moto's
// Glue and S3. Only the endpoints differ from AWS; see motoSparkConf.

type Row = Record<string, unknown>;
type GlueTable = { location: string; parameters: Record<string, string> };

interface SparkResult {
  rawRunIds: Record<string, (string | null)[]>;
  run1: { journal: Row[]; tasks: Row[]; gold: Row[] };
  glueAfterCurate: Record<string, GlueTable>;
  glueDatabases: string[];
  rowsBeforeMaintenance: Record<string, number>;
  rowsAfterMaintenance: Record<string, number>;
  glueBeforeMaintenance: Record<string, GlueTable>;
  glueAfterMaintenance: Record<string, GlueTable>;
  columnsBefore: { name: string; type: string }[];
  columnsAfter: { name: string; type: string }[];
  reviewers: Row[];
}

const repoRoot = join(import.meta.dirname, '..', '..', '..');
const script = (name: string) => join(repoRoot, 'glue-scripts', name);
const MOTO_ENV = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
// Beyond every retention age, so maintenance has snapshots to expire.
const EXPIRE_AS_OF = '2030-01-01T00:00:00Z';

/**
 * The Glue job's Spark settings, pointed at moto. Iceberg 1.0.0 has no
 * Glue endpoint property, so an endpoint-taking client factory
 * (tools/aws-client-factory/) builds the clients. Glue serves s3:// paths
 * read through Hadoop (staged Parquet, remove_orphan_files' listing) with
 * EMRFS; here S3A does.
 */
function motoSparkConf(endpoint: string, warehouseUri: string): Record<string, string> {
  const catalog = `spark.sql.catalog.${GLUE_ICEBERG_CATALOG}`;
  return {
    ...Object.fromEntries(glueIcebergSparkConf(warehouseUri)),
    [`${catalog}.client.factory`]: 'ledgerlake.EndpointAwsClientFactory',
    [`${catalog}.glue.endpoint`]: endpoint,
    [`${catalog}.s3.endpoint`]: endpoint,
    [`${catalog}.s3.path-style-access`]: 'true',
    'spark.hadoop.fs.s3.impl': 'org.apache.hadoop.fs.s3a.S3AFileSystem',
    'spark.hadoop.fs.s3a.endpoint': endpoint,
    'spark.hadoop.fs.s3a.path.style.access': 'true',
  };
}

// One Spark session runs the jobs as Glue would, one after another, and reads
// the Glue catalog back through boto3 (in the virtualenv with moto).
const DRIVER = `
import json
import os
import boto3
opts = json.loads(args[0])
raw_ns, curated_ns, root = opts["rawNamespace"], opts["curatedNamespace"], opts["root"]
glue = boto3.client("glue", endpoint_url=opts["endpoint"], region_name=os.environ["AWS_REGION"])

def raw_append(run_id):
    run_job(opts["scripts"]["raw_append"], ["--run_id", run_id, "--staging_root", root, "--raw_namespace", raw_ns, "--table_location_root", root])

def curate(run_id):
    run_job(opts["scripts"]["curate"], ["--run_id", run_id, "--staging_root", root, "--raw_namespace", raw_ns, "--curated_namespace", curated_ns, "--table_location_root", root])

def glue_tables():
    found = {}
    for ns in (raw_ns, curated_ns):
        for table in glue.get_tables(DatabaseName=ns)["TableList"]:
            found[f"{ns}.{table['Name']}"] = {"location": table["StorageDescriptor"]["Location"], "parameters": table["Parameters"]}
    return found

def counts():
    return {t: spark.table(t).count() for t in opts["tables"]}

raw_append("run-1")
curate("run-1")
result = {
    "run1": {
        "journal": rows(f"SELECT _id, entry_id, entry_date, description, account_id, account_name, account_type, debit, credit, line_no FROM {curated_ns}.journal_entries_silver ORDER BY line_no"),
        "tasks": rows(f"SELECT _id, task_id, name, assigned_to, status, due_date, period FROM {curated_ns}.close_tasks_silver ORDER BY task_id"),
        "gold": rows(f"SELECT entry_id, entry_date, total_credit, total_debit, is_balanced FROM {curated_ns}.journal_entries_gold"),
    },
    "glueAfterCurate": glue_tables(),
    "glueDatabases": sorted(d["Name"] for d in glue.get_databases()["DatabaseList"]),
}
for run_id in opts["laterRuns"]:
    raw_append(run_id)
    curate(run_id)
result["rawRunIds"] = {t: [r["run_id"] for r in rows(f"SELECT summary['ledgerlake.run-id'] AS run_id FROM {t}.snapshots ORDER BY committed_at")] for t in opts["raw"]}
result["rowsBeforeMaintenance"] = counts()
result["glueBeforeMaintenance"] = glue_tables()
run_job(opts["scripts"]["maintenance"], ["--raw_namespace", raw_ns, "--curated_namespace", curated_ns, "--catalog", opts["catalog"], "--expire_as_of", opts["expireAsOf"]])
result["rowsAfterMaintenance"] = counts()
result["glueAfterMaintenance"] = glue_tables()

# The model gains a column: the job's schema evolution alters the table, and Glue (what Athena reads) follows.
import runpy
from ledgerlake_glue.schema import prepare_tables
def glue_columns(table):
    ns, name = table.split(".")
    columns = glue.get_table(DatabaseName=ns, Name=name)["Table"]["StorageDescriptor"]["Columns"]
    return [{"name": c["Name"], "type": c["Type"]} for c in columns]
tasks = f"{curated_ns}.close_tasks_silver"
spec = next(t for t in runpy.run_path(opts["scripts"]["curate"], run_name="generated")["MODEL"].curated_tables if t["name"] == "close_tasks_silver")
grown = {**spec, "fields": spec["fields"] + [{"path": "reviewer", "type": "string", "required": False, "ddl": "string", "comment": "Who reviews the task", "after": "due_date"}]}
result["columnsBefore"] = glue_columns(tasks)
prepare_tables(spark, "test", {tasks: grown}, root)
result["columnsAfter"] = glue_columns(tasks)
spark.sql(f"INSERT INTO {tasks} VALUES ('x', 'T9', NULL, NULL, NULL, NULL, 'Dana', NULL, NULL)")
result["reviewers"] = rows(f"SELECT task_id, reviewer FROM {tasks} ORDER BY task_id")
emit(result)
`;

describe('generated Glue scripts on the Glue catalog and S3 (moto)', { timeout: 300_000 }, () => {
  const bucket = uniqueName('glue-catalog');
  // Glue database names: one pair per test run, so runs sharing a moto server do not meet.
  const suffix = bucket.slice(bucket.lastIndexOf('-') + 1);
  const rawNs = `raw_${suffix}`;
  const curatedNs = `curated_${suffix}`;
  const root = `s3://${bucket}`;
  const qualified = (name: string) => `${model.table(name).layer === 'raw' ? rawNs : curatedNs}.${name}`;
  let dir: string;
  let s3: S3Client;
  let result: SparkResult;

  before(async () => {
    const endpoint = await motoEndpoint();
    s3 = new S3Client(motoClientConfig(endpoint));
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    dir = await mkdtemp(join(tmpdir(), 'glue-catalog-moto-'));
    await stageRuns(dir);
    const staged = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name));
    for (const file of staged) {
      const key = relative(dir, file).split(sep).join('/');
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(file) }));
    }
    const options = {
      endpoint,
      root,
      scripts: {
        raw_append: script('raw_append.py'),
        curate: script('curate.py'),
        maintenance: script('maintenance.py'),
      },
      rawNamespace: rawNs,
      curatedNamespace: curatedNs,
      raw: model.tables.filter((t) => t.layer === 'raw').map((t) => qualified(t.name)),
      tables: model.tables.map((t) => qualified(t.name)),
      // Run 2 updates silver and gold, so maintenance finds several snapshots;
      // the later runs' cases are the local test's (glue-jobs.test.ts).
      laterRuns: RUNS.slice(1, 2).map((r) => r.runId),
      catalog: GLUE_ICEBERG_CATALOG,
      expireAsOf: EXPIRE_AS_OF,
    };
    result = await runSpark<SparkResult>(DRIVER, {
      warehouse: join(dir, 'unused-hadoop-warehouse'),
      args: [JSON.stringify(options)],
      conf: motoSparkConf(endpoint, `${root}/warehouse`),
      jars: icebergAwsJars(),
      env: MOTO_ENV,
    });
  });
  after(async () => {
    s3?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('registers every model table in its Glue database as an Iceberg table at its model location', () => {
    assert.ok(result.glueDatabases.includes(rawNs) && result.glueDatabases.includes(curatedNs));
    assert.deepEqual(
      Object.keys(result.glueAfterCurate).sort(),
      model.tables.map((t) => qualified(t.name)).sort(),
    );
    for (const t of model.tables) {
      const table = result.glueAfterCurate[qualified(t.name)];
      assert.equal(table?.location, `${root}/${t.location}`, t.name);
      assert.equal(table?.parameters.table_type, 'ICEBERG', t.name);
      assert.match(table?.parameters.metadata_location ?? '', new RegExp(`^${root}/${t.location}/metadata/`));
    }
    assert.equal(
      result.glueAfterCurate[qualified('journal_entries')]?.location,
      `${root}/raw/fq_app/journal_entries`,
    );
  });

  it('writes the metadata Glue points to into S3 with S3FileIO', async () => {
    for (const table of Object.values(result.glueAfterMaintenance)) {
      const key = (table.parameters.metadata_location ?? '').slice(`${root}/`.length);
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    }
  });

  it('merges the brief rows into exactly the brief silver and gold tables', () => {
    assert.deepEqual(result.run1.journal, BRIEF_EXPECTED.journalEntriesSilver);
    assert.deepEqual(result.run1.tasks, BRIEF_EXPECTED.closeTasksSilver);
    assert.deepEqual(result.run1.gold, BRIEF_EXPECTED.journalEntriesGold);
  });

  it('tags each raw append with its run id in the snapshot summary', () => {
    assert.deepEqual(result.rawRunIds[qualified('accounts')], ['run-1']);
    assert.deepEqual(result.rawRunIds[qualified('journal_entries')], ['run-1', 'run-2']);
    assert.deepEqual(result.rawRunIds[qualified('close_tasks')], ['run-1', 'run-2']);
  });

  it('runs maintenance through the Glue catalog: rows unchanged, Glue points at the new metadata', () => {
    assert.deepEqual(result.rowsAfterMaintenance, result.rowsBeforeMaintenance);
    const moved = Object.keys(result.glueAfterMaintenance).filter(
      (t) =>
        result.glueAfterMaintenance[t]?.parameters.metadata_location !==
        result.glueBeforeMaintenance[t]?.parameters.metadata_location,
    );
    assert.ok(moved.length > 0, 'no table got a new metadata location in Glue');
  });

  it('a column the model gains reaches the Glue table Athena reads: the commit updates its StorageDescriptor columns', () => {
    const names = (columns: { name: string }[]) => columns.map((c) => c.name);
    assert.ok(!names(result.columnsBefore).includes('reviewer'));
    const after = names(result.columnsAfter);
    assert.deepEqual(after, [
      ...names(result.columnsBefore).slice(0, 6),
      'reviewer',
      ...names(result.columnsBefore).slice(6),
    ]);
    assert.deepEqual(result.columnsAfter[6], { name: 'reviewer', type: 'string' });
    assert.deepEqual(
      result.reviewers.map((r) => [r.task_id, r.reviewer]),
      [
        ['T1', null],
        ['T2', null],
        ['T9', 'Dana'],
      ],
    );
  });
});
