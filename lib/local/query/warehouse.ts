import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveConfig } from '../../config/index.ts';
import { buildTableModel, type Table } from '../../model/index.ts';
import { FsCatalog } from '../iceberg/catalog.ts';
import { IcebergTable } from '../iceberg/table-ops.ts';

/** A mistake in what the user asked for: the message says what was given and what was expected. */
export class QueryInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryInputError';
  }
}

export interface WarehouseTable {
  readonly table: Table;
  readonly iceberg: IcebergTable;
  /** `<database>.<table>`, e.g. `fq_app_curated.journal_entries_silver`. */
  readonly qualifiedName: string;
}

/**
 * The Iceberg tables of the model that exist in a local state directory
 * (`<dir>/warehouse`). Opening only reads: a table the pipeline has not
 * written yet is reported as such, never created.
 */
export class Warehouse {
  private constructor(
    readonly path: string,
    readonly tables: readonly WarehouseTable[],
    private readonly notWritten: readonly Table[],
  ) {}

  static async open(dir: string): Promise<Warehouse> {
    const path = join(dir, 'warehouse');
    if (!(await isDirectory(path))) {
      throw new QueryInputError(
        `no warehouse at ${path}: run \`npm run local\` first to build the tables, or pass --dir with the state directory it used`,
      );
    }
    const catalog = new FsCatalog(path);
    const present: WarehouseTable[] = [];
    const absent: Table[] = [];
    for (const table of buildTableModel(resolveConfig()).tables) {
      const location = catalog.locationOf(table);
      if ((await catalog.load(location)) === undefined) absent.push(table);
      else
        present.push({
          table,
          iceberg: new IcebergTable(catalog, location),
          qualifiedName: `${table.database}.${table.name}`,
        });
    }
    if (present.length === 0) {
      throw new QueryInputError(
        `no Iceberg tables under ${path}: run \`npm run local\` first to build them, or pass --dir with the state directory it used`,
      );
    }
    return new Warehouse(path, present, absent);
  }

  /**
   * The table a name stands for: `<database>.<table>`, `<layer>.<table>`
   * (raw, silver, gold) or the bare table name; case does not matter, as for
   * unquoted SQL names.
   */
  find(name: string | readonly string[]): WarehouseTable {
    const parts = (typeof name === 'string' ? name.split('.') : name).map((p) => p.toLowerCase());
    const found = this.tables.find((t) => namesOf(t.table).some((n) => sameParts(n, parts)));
    if (found !== undefined) return found;
    const shown = parts.join('.');
    const pending = this.notWritten.find((t) => namesOf(t).some((n) => sameParts(n, parts)));
    if (pending !== undefined) {
      throw new QueryInputError(
        `table ${shown} (${pending.database}.${pending.name}) has not been written yet under ${this.path}: run \`npm run local\` to build it`,
      );
    }
    throw new QueryInputError(`unknown table ${shown}; ${this.knownTablesText()}`);
  }

  /** Names a query can use, for error messages. */
  knownTablesText(): string {
    const names = this.tables.map((t) => `${t.qualifiedName} (${t.table.layer}.${t.table.name})`);
    return `known tables: ${names.join(', ')}`;
  }

  /** Model tables the pipeline has not written yet. */
  get missing(): readonly Table[] {
    return this.notWritten;
  }
}

/** Every name a table answers to, as lower-case parts. */
export function namesOf(table: Table): string[][] {
  return [[table.database, table.name], [table.layer, table.name], [table.name]].map((parts) =>
    parts.map((p) => p.toLowerCase()),
  );
}

function sameParts(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
