import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LedgerlakeConfig } from '../config/index.ts';
import type { ModelDefinition } from '../model/definition.ts';
import { buildTableModel } from '../model/index.ts';
import { closePeriodScript } from './close-period-script.ts';
import { curateScript } from './curate-script.ts';
import { glueJobArguments } from './job-arguments.ts';
import { maintenanceScript } from './maintenance-script.ts';
import { rawAppendScript } from './raw-append-script.ts';

/** The Glue scripts of a configuration: file name under glue-scripts/ → Python source. */
export function generateGlueScripts(
  config: LedgerlakeConfig,
  definition?: ModelDefinition,
): ReadonlyMap<string, string> {
  const model = buildTableModel(config, definition);
  const jobs = glueJobArguments(model);
  return new Map([
    [jobs.raw_append.script, rawAppendScript(model, jobs.raw_append)],
    [jobs.curate.script, curateScript(model, config, jobs.curate)],
    [jobs.close_period.script, closePeriodScript(model, jobs.close_period)],
    [jobs.maintenance.script, maintenanceScript(model, config, jobs.maintenance)],
  ]);
}

/** Writes the scripts of `definition`'s model into `dir` (for a model other than the checked-in one); file name → path. */
export async function writeGlueScripts(
  config: LedgerlakeConfig,
  dir: string,
  definition?: ModelDefinition,
): Promise<ReadonlyMap<string, string>> {
  await mkdir(dir, { recursive: true });
  const paths = new Map<string, string>();
  for (const [name, source] of generateGlueScripts(config, definition)) {
    await writeFile(join(dir, name), source);
    paths.set(name, join(dir, name));
  }
  return paths;
}
