// Regenerates what is generated from the table model and the curate SQL (the Glue scripts in
// glue-scripts/ and the schema history lib/model/schema-history.json): `npm run gen`.
import { join } from 'node:path';
import { resolveConfig } from '../lib/config/index.ts';
import { writeGeneratedFiles } from '../lib/generate.ts';

const repoRoot = join(import.meta.dirname, '..');
for (const path of await writeGeneratedFiles(resolveConfig(), repoRoot)) console.log(`gen: wrote ${path}`);
