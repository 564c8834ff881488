import { existsSync } from 'node:fs';
import { join } from 'node:path';

const repoRoot = join(import.meta.dirname, '..', '..');

/** The project virtualenv's Python; fails naming the setup command when it is missing. */
export function venvPython(): string {
  const python = join(repoRoot, '.venv', 'bin', 'python');
  if (!existsSync(python)) {
    throw new Error('the project virtualenv (.venv) is missing: run `npm run setup:python`');
  }
  return python;
}
