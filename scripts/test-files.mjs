// Runs test files with node:test, `concurrency` at a time, in the order given
// (`node --test` sorts them by name; run-tests.mjs starts the slowest first).
// usage: node --import tsx scripts/test-files.mjs '{"concurrency":2,"testNamePatterns":[]}' FILE...
// The test processes inherit this process's --import tsx.
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';

const [optionsJson, ...files] = process.argv.slice(2);
const { concurrency, testNamePatterns } = JSON.parse(optionsJson ?? '{}');
const stream = run({
  files,
  concurrency,
  ...(testNamePatterns.length > 0 ? { testNamePatterns } : {}),
});
stream.on('test:fail', () => {
  process.exitCode = 1;
});
stream.compose(process.stdout.isTTY ? spec : tap).pipe(process.stdout);
