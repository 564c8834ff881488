// Regenerates glue-scripts/ from the table model and the curate SQL: `npm run gen`.
import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { resolveConfig } from '../lib/config/index.ts';
import { GLUE_SCRIPTS_DIR } from '../lib/contracts/index.ts';
import { writeGlueScripts } from '../lib/glue/generate.ts';

const repoRoot = join(import.meta.dirname, '..');
const dir = join(repoRoot, GLUE_SCRIPTS_DIR);
await mkdir(dir, { recursive: true });
for (const path of await writeGlueScripts(resolveConfig(), dir)) {
  console.log(`gen: wrote ${relative(repoRoot, path)}`);
}
