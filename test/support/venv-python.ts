import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');

/** The project virtualenv's Python; fails naming the setup command when it is missing. */
export function venvPython(): string {
  const python = join(repoRoot, '.venv', 'bin', 'python');
  if (!existsSync(python)) {
    throw new Error('the project virtualenv (.venv) is missing: run `npm run setup:python`');
  }
  return python;
}

/** Runs a Python snippet in the virtualenv and parses what it prints as JSON. */
export async function runPythonJson<T>(code: string, args: readonly string[] = []): Promise<T> {
  const { stdout } = await run(venvPython(), ['-c', code, ...args], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as T;
}
