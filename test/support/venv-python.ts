import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { venvPython } from '../../lib/local/python.ts';

export { venvPython };

const run = promisify(execFile);

/** Runs a Python snippet in the virtualenv and parses what it prints as JSON. */
export async function runPythonJson<T>(code: string, args: readonly string[] = []): Promise<T> {
  const { stdout } = await run(venvPython(), ['-c', code, ...args], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as T;
}
