/**
 * Extraction benchmark (`npm run bench`). Loads N seeded journal entries into
 * a MongoDB-compatible server, then measures in separate processes:
 *   - the bare driver cursor over all N documents (the ceiling),
 *   - extractChunk over the same N documents as ONE chunk,
 *   - extractChunk over N/10 documents as one chunk (memory must not grow with chunk size),
 *   - planRun splitting N documents into 50,000-document chunks,
 *   - listKeys listing all N `_id`s (delete detection, every run).
 * Options: --docs N (default 1,000,000), --uri URI (a server already seeded
 * with `npm run seed`; default: the embedded server, seeded here), --only MODE
 * (one measurement: cursor, extract, plan or keys).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { startMongoServer } from '../lib/local/mongo-server/index.ts';
import { generateJournalEntries } from '../lib/local/sample-data/index.ts';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    docs: { type: 'string', default: '1000000' },
    uri: { type: 'string' },
    database: { type: 'string', default: 'fq_app' },
    only: { type: 'string' },
  },
});
const docs = Number(values.docs);
if (!Number.isInteger(docs) || docs < 1000)
  throw new Error(`--docs must be an integer of at least 1000, got ${values.docs}`);

const server = values.uri === undefined ? await startMongoServer() : undefined;
const uri: string = values.uri ?? (server?.uri as string);
if (server !== undefined) {
  const loading = performance.now();
  const client = await new MongoClient(uri).connect();
  const collection = client.db(values.database).collection('journal_entries');
  let batch = [];
  for (const doc of generateJournalEntries({ journalEntries: docs })) {
    batch.push(doc);
    if (batch.length === 10_000) {
      await collection.insertMany(batch, { ordered: false });
      batch = [];
    }
  }
  if (batch.length > 0) await collection.insertMany(batch, { ordered: false });
  await client.close();
  console.error(`loaded ${docs} journal entries in ${((performance.now() - loading) / 1000).toFixed(1)} s`);
}

const worker = join(import.meta.dirname, 'extract-worker.ts');
async function measure(mode: string, n: number, extra: string[] = []) {
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      worker,
      '--mode',
      mode,
      '--uri',
      uri as string,
      '--database',
      values.database,
      '--docs',
      String(n),
      ...extra,
    ],
    { maxBuffer: 1024 * 1024, env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN' } },
  );
  const result = JSON.parse(stdout.trim().split('\n').at(-1) as string);
  console.error(JSON.stringify(result));
  return result;
}

try {
  if (values.only !== undefined) {
    console.log(JSON.stringify({ documents: docs, results: [await measure(values.only, docs)] }, null, 2));
    process.exit(0);
  }
  const results = [
    await measure('cursor', docs),
    await measure('extract', docs),
    await measure('extract', Math.round(docs / 10)),
    await measure('plan', docs, ['--chunkDocs', '50000']),
    await measure('keys', docs),
  ];
  const [cursor, extract] = results;
  console.log(
    JSON.stringify(
      {
        documents: docs,
        extractVsCursor: Number((extract.docsPerSecond / cursor.docsPerSecond).toFixed(2)),
        results,
      },
      null,
      2,
    ),
  );
} finally {
  await server?.close();
}
