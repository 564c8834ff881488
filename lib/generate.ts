import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type LedgerlakeConfig, resolveConfig } from './config/index.ts';
import { GLUE_SCRIPTS_DIR } from './contracts/index.ts';
import { generateGlueScripts } from './glue/generate.ts';
import { buildTableModel, recordedSchemaHistory, schemaHistoryText } from './model/build.ts';
import type { ModelDefinition } from './model/definition.ts';

/** The repository root: where the checked-in generated files are. */
export const REPO_ROOT = join(import.meta.dirname, '..');

/** Where the schema history lives, relative to the repository root. */
export const SCHEMA_HISTORY_FILE = 'lib/model/schema-history.json';

/**
 * Every file `npm run gen` writes, by path relative to the repository root:
 * the Glue scripts and the schema history. They are checked in; a model or
 * generator change must be followed by `npm run gen`.
 */
export function generatedFiles(
  config: LedgerlakeConfig,
  definition?: ModelDefinition,
): ReadonlyMap<string, string> {
  const files = new Map<string, string>();
  for (const [name, source] of generateGlueScripts(config, definition))
    files.set(`${GLUE_SCRIPTS_DIR}/${name}`, source);
  files.set(SCHEMA_HISTORY_FILE, schemaHistoryText(recordedSchemaHistory(config, definition)));
  return files;
}

/** Writes the generated files under `root` and returns the relative paths written. */
export async function writeGeneratedFiles(config: LedgerlakeConfig, root: string): Promise<string[]> {
  const written: string[] = [];
  for (const [path, text] of generatedFiles(config)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
    written.push(path);
  }
  return written;
}

/**
 * The checked-in generated files that differ from what `npm run gen` would
 * write now (missing ones included). Like `npm run gen`, from the default
 * configuration: the scripts are generated once for every deployment.
 */
export function staleGeneratedFiles(root: string = REPO_ROOT): string[] {
  return [...generatedFiles(resolveConfig())].flatMap(([path, text]) => {
    try {
      return readFileSync(join(root, path), 'utf8') === text ? [] : [path];
    } catch {
      return [path];
    }
  });
}

/** A warning naming the stale generated files, or undefined when none is. */
export function staleGeneratedFilesWarning(root: string = REPO_ROOT): string | undefined {
  const stale = staleGeneratedFiles(root);
  if (stale.length === 0) return undefined;
  // What the history does not record yet, so the warning says which model change is pending.
  const pending = buildTableModel(resolveConfig()).unrecorded.map(({ table, change }) =>
    change.kind === 'new-table' ? `new table ${table}` : `${table}: ${change.kind} ${change.path}`,
  );
  return `${stale.join(', ')} ${stale.length === 1 ? 'is' : 'are'} stale for the table model${pending.length === 0 ? '' : ` (${pending.join('; ')})`}: run \`npm run gen\` (deployed Glue jobs would run the old scripts)`;
}
