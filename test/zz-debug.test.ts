import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { runSpark } from './support/spark.ts';
import { model } from './lib/curate/brief-fixture.ts';
import { stageRuns } from './lib/glue/runs-fixture.ts';

it('debug', { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dbg-'));
  await stageRuns(join(dir, 'bucket'));
  const root = join(dir, 'bucket');
  const script = (n: string) => join(import.meta.dirname, '..', 'glue-scripts', n);
  const out = await runSpark<unknown>(`
import json
opts = json.loads(args[0])
root = opts["root"]
ns = {"raw_namespace": "raw.fq_app", "curated_namespace": "curated.fq_app"}
run_job(opts["ra"], ["--run_id", "run-1", "--staging_root", root, "--raw_namespace", ns["raw_namespace"]])
run_job(opts["cu"], ["--run_id", "run-1", "--staging_root", root, "--raw_namespace", ns["raw_namespace"], "--curated_namespace", ns["curated_namespace"]])
g = {"__name__": "dbg"}
exec(compile(open(opts["cu"]).read(), opts["cu"], "exec"), g)
for c, t in g["RAW_COLLECTIONS"].items():
    spark.table(ns["raw_namespace"] + "." + t).createOrReplaceTempView("raw_" + c)
    spark.table(ns["raw_namespace"] + "." + t).createOrReplaceTempView("changed_" + c)
res = {}
for step in g["STEPS"]:
    rel = spark.sql(step["sql"].format(**ns)).localCheckpoint()
    rel.createOrReplaceTempView(step["name"])
    if step["kind"] == "merge":
        res[step["name"]] = rows(rel)
res["dq"] = rows("SELECT * FROM curated.fq_app.data_quality_issues")

emit(res)
`, { warehouse: join(dir, 'wh'), args: [JSON.stringify({ root, ra: script('raw_append.py'), cu: script('curate.py') })], conf: { 'spark.sql.defaultCatalog': 'local' } });
  console.log(JSON.stringify(out, null, 1));
});
