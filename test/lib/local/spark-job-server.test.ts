import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SparkJobServer } from '../../../lib/local/spark-job-server.ts';

// Job scripts as the generated Glue scripts are written: they take the session from
// SparkSession.builder.getOrCreate() and import the Glue package. They report what they saw in a
// JSON file named by their first argument.
const JOBS = {
  'leave.py': `
import json, sys, time
from pyspark.sql import SparkSession
import ledgerlake_glue.common as common
started = time.time()
spark = SparkSession.builder.getOrCreate()
spark.sql("CREATE TABLE local.ns.t (x int) USING iceberg")
spark.sql("INSERT INTO local.ns.t VALUES (1)")
spark.sql("SELECT 1 AS y").createOrReplaceTempView("left_behind")
spark.conf.set("spark.sql.shuffle.partitions", "7")
SparkSession.builder.config("spark.sql.ansi.enabled", "true").getOrCreate()
spark.table("local.ns.t").cache().count()
common.LEFT_BEHIND = True
json.dump({"started": started, "ended": time.time()}, open(sys.argv[1], "w"))
`,
  'look.py': `
import json, sys, time
from pyspark.sql import SparkSession
import ledgerlake_glue.common as common
started = time.time()
spark = SparkSession.builder.getOrCreate()
seen = {
    "tempViews": [t.name for t in spark.catalog.listTables() if t.isTemporary],
    "shufflePartitions": spark.conf.get("spark.sql.shuffle.partitions"),
    "ansi": spark.conf.get("spark.sql.ansi.enabled"),
    "cacheEmpty": spark._jsparkSession.sharedState().cacheManager().isEmpty(),
    "moduleLeftBehind": hasattr(common, "LEFT_BEHIND"),
    "tableVisible": common.table_exists(spark, "local.ns.t"),
}
spark.sql("CREATE TABLE local.ns.t (x int) USING iceberg")
seen.update(started=started, ended=time.time())
json.dump(seen, open(sys.argv[1], "w"))
`,
  'fail.py': `
raise ValueError("the job's own failure")
`,
  'crash.py': `
import os
os._exit(3)
`,
};

interface Seen {
  tempViews: string[];
  shufflePartitions: string;
  ansi: string;
  cacheEmpty: boolean;
  moduleLeftBehind: boolean;
  tableVisible: boolean;
  started: number;
  ended: number;
}

describe('SparkJobServer: one Spark process runs job after job, each as a fresh Glue job run', () => {
  let dir: string;
  let server: SparkJobServer;
  const script = (name: keyof typeof JOBS) => join(dir, 'jobs', name);
  const warehouse = (name: string) => join(dir, name);
  const report = async (name: string) => JSON.parse(await readFile(join(dir, name), 'utf8')) as Seen;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ledgerlake-spark-server-test-'));
    await mkdir(join(dir, 'jobs'));
    for (const [name, text] of Object.entries(JOBS)) await writeFile(join(dir, 'jobs', name), text);
    server = new SparkJobServer();
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives each job its own warehouse and nothing of the job before', async () => {
    await server.run({
      script: script('leave.py'),
      argv: [join(dir, 'leave.json')],
      warehouse: warehouse('w1'),
    });
    await server.run({
      script: script('look.py'),
      argv: [join(dir, 'look.json')],
      warehouse: warehouse('w2'),
    });
    const seen = await report('look.json');
    assert.deepEqual(
      {
        tempViews: seen.tempViews,
        shufflePartitions: seen.shufflePartitions,
        ansi: seen.ansi,
        cacheEmpty: seen.cacheEmpty,
        moduleLeftBehind: seen.moduleLeftBehind,
        tableVisible: seen.tableVisible,
      },
      {
        tempViews: [],
        shufflePartitions: '2',
        ansi: 'false',
        cacheEmpty: true,
        moduleLeftBehind: false,
        tableVisible: false,
      },
    );
    assert.ok(
      existsSync(join(warehouse('w1'), 'ns', 't', 'metadata')),
      'the first job wrote to its warehouse',
    );
    assert.ok(existsSync(join(warehouse('w2'), 'ns', 't', 'metadata')), 'the second job wrote to its own');
  });

  it('runs jobs asked for together one after the other', async () => {
    await Promise.all([
      server.run({ script: script('look.py'), argv: [join(dir, 'a.json')], warehouse: warehouse('w3') }),
      server.run({ script: script('look.py'), argv: [join(dir, 'b.json')], warehouse: warehouse('w4') }),
    ]);
    const [a, b] = [await report('a.json'), await report('b.json')];
    assert.ok(
      a.ended <= b.started,
      `the second job started at ${b.started}, before the first ended at ${a.ended}`,
    );
  });

  it("rejects with the job's traceback when it fails, and runs the next job", async () => {
    await assert.rejects(
      server.run({ script: script('fail.py'), argv: [], warehouse: warehouse('w5') }),
      /Spark job fail\.py failed:[\s\S]*fail\.py", line 2[\s\S]*ValueError: the job's own failure/,
    );
    await server.run({ script: script('look.py'), argv: [join(dir, 'c.json')], warehouse: warehouse('w5') });
    assert.equal((await report('c.json')).tableVisible, false);
  });

  it('rejects when the Spark process dies during a job, and starts a new one for the next', async () => {
    await assert.rejects(
      server.run({ script: script('crash.py'), argv: [], warehouse: warehouse('w6') }),
      /the Spark process exited \(code 3\) while running crash\.py/,
    );
    await server.run({ script: script('look.py'), argv: [join(dir, 'd.json')], warehouse: warehouse('w6') });
    assert.equal((await report('d.json')).tableVisible, false);
  });
});
