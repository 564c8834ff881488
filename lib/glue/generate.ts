import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LedgerlakeConfig } from '../config/index.ts';
import { buildTableModel } from '../model/index.ts';
import { curateScript } from './curate-script.ts';
import { glueJobArguments } from './job-arguments.ts';
import { maintenanceScript } from './maintenance-script.ts';
import { rawAppendScript } from './raw-append-script.ts';

/** The Glue scripts of a configuration: file name under glue-scripts/ → Python source. */
export function generateGlueScripts(config: LedgerlakeConfig): ReadonlyMap<string, string> {
  const model = buildTableModel(config);
  const jobs = glueJobArguments(model);
  return new Map([
    [jobs.raw_append.script, rawAppendScript(model, jobs.raw_append)],
    [jobs.curate.script, curateScript(model, config, jobs.curate)],
    [jobs.maintenance.script, maintenanceScript(model, config, jobs.maintenance)],
  ]);
}

/** Writes the scripts into `dir` and returns the paths written. */
export async function writeGlueScripts(config: LedgerlakeConfig, dir: string): Promise<string[]> {
  const written: string[] = [];
  for (const [name, source] of generateGlueScripts(config)) {
    const path = join(dir, name);
    await writeFile(path, source);
    written.push(path);
  }
  return written;
}
