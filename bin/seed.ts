/**
 * `npm run seed -- --uri mongodb://… [--db fq_app] [--seed 42] [--journal-entries 1000] [--close-tasks 24]`:
 * inserts seeded sample data into a MongoDB database and prints the counts.
 * The connection string is never printed: it may hold credentials.
 */
import { MongoClient } from 'mongodb';
import { seedDatabase } from '../lib/local/sample-data/index.ts';
import { parseSeedArgs, redactUris, SEED_USAGE, SeedArgsError } from '../lib/local/sample-data/seed-args.ts';

async function main(): Promise<number> {
  let args: ReturnType<typeof parseSeedArgs>;
  try {
    args = parseSeedArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof SeedArgsError)) throw error;
    console.error(`${error.message}\n\n${SEED_USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(SEED_USAGE);
    return 0;
  }
  const started = performance.now();
  let client: MongoClient | undefined;
  try {
    client = await new MongoClient(args.uri).connect();
    const counts = await seedDatabase(client.db(args.database), args.options);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`seeded database ${args.database} in ${seconds} s`);
    console.log(`accounts         ${counts.accounts}`);
    console.log(`journal_entries  ${counts.journalEntries}`);
    console.log(`close_tasks      ${counts.closeTasks}`);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.error(`seeding failed: ${redactUris(message.replaceAll(args.uri, '<uri>'))}`);
    return 1;
  } finally {
    await client?.close();
  }
}

process.exitCode = await main();
