import type { Field, FieldType } from './table.ts';
import type { ColumnSpec, IcebergType } from './types.ts';

/**
 * Field ids that never move. Iceberg finds a column in every data file by its
 * field id, so once a table exists an id must keep naming the same column
 * whatever is declared before or after it. The schema history
 * (`lib/model/schema-history.json`, written by `npm run gen`) records every
 * field path each table has ever declared with its id, type and nullability;
 * the model takes ids from it and numbers only paths it has never seen, after
 * the highest id the table ever used, as Iceberg's add-column does. A table
 * the history does not know is numbered as Iceberg numbers a new table
 * (all fields of a struct first, then their nested types), so its ids equal
 * those Spark gives it on CREATE TABLE.
 */
export interface SchemaHistory {
  readonly tables: Readonly<Record<string, TableHistory>>;
}

export interface TableHistory {
  /** The highest field id the table has used: new fields are numbered after it. */
  readonly lastColumnId: number;
  /** Field path (`lines.element.debit`) → how it was last declared. */
  readonly fields: Readonly<Record<string, FlatField>>;
}

/**
 * One field of a schema flattened to its path: `lines` is the list,
 * `lines.element` its element, `lines.element.debit` a field of the element struct.
 */
export interface FlatField {
  readonly id: number;
  /** An Iceberg primitive (`string`, `decimal(18, 4)`) or `list`, `struct`, `map`. */
  readonly type: string;
  readonly required: boolean;
}

export type FlatSchema = ReadonlyMap<string, FlatField>;

/** What a model changes in a table that exists: each kind Iceberg does in place. */
export type SchemaChange =
  | { readonly kind: 'add'; readonly path: string; readonly type: string }
  | { readonly kind: 'widen'; readonly path: string; readonly from: string; readonly to: string }
  | { readonly kind: 'make-optional'; readonly path: string };

/** A model change no table can follow in place; the message names the table, column, types and what to do instead. */
export class SchemaChangeRefused extends Error {
  override readonly name = 'SchemaChangeRefused';
  constructor(readonly reasons: readonly string[]) {
    super(reasons.join('\n'));
  }
}

/**
 * Assigns field ids to a table's columns: paths `history` knows keep their
 * id, new ones are numbered after its `lastColumnId` in Iceberg's order
 * (a struct's fields, then their nested types).
 */
export function assignFieldIds(
  columns: readonly ColumnSpec[],
  history?: TableHistory,
): { fields: Field[]; lastColumnId: number } {
  const known = history?.fields ?? {};
  let next = Math.max(history?.lastColumnId ?? 0, ...Object.values(known).map((f) => f.id)) + 1;
  const idOf = (path: string) => known[path]?.id ?? next++;

  const assignStruct = (specs: readonly ColumnSpec[], prefix: string): Field[] => {
    const ids = specs.map((spec) => idOf(prefix + spec.name));
    return specs.map((spec, i) => ({
      id: ids[i] as number,
      name: spec.name,
      required: spec.required,
      doc: spec.doc,
      type: assignType(spec.type, `${prefix}${spec.name}.`),
      ...(spec.sourceField === undefined ? {} : { sourceField: spec.sourceField }),
      ...(spec.from === undefined ? {} : { from: spec.from }),
    }));
  };

  const assignType = (type: IcebergType, prefix: string): FieldType => {
    switch (type.kind) {
      case 'primitive':
      case 'decimal':
        return type;
      case 'list': {
        const elementId = idOf(`${prefix}element`);
        return {
          kind: 'list',
          elementId,
          element: assignType(type.element, `${prefix}element.`),
          elementRequired: type.elementRequired,
        };
      }
      case 'struct':
        return { kind: 'struct', fields: assignStruct(type.fields, prefix) };
    }
  };

  const fields = assignStruct(columns, '');
  return { fields, lastColumnId: next - 1 };
}

/** The model's fields by path. */
export function flattenFields(fields: readonly Field[]): FlatSchema {
  const flat = new Map<string, FlatField>();
  const visit = (id: number, type: FieldType, required: boolean, path: string) => {
    flat.set(path, { id, type: typeName(type), required });
    if (type.kind === 'list') visit(type.elementId, type.element, type.elementRequired, `${path}.element`);
    if (type.kind === 'struct')
      for (const f of type.fields) visit(f.id, f.type, f.required, `${path}.${f.name}`);
  };
  for (const f of fields) visit(f.id, f.type, f.required, f.name);
  return flat;
}

/** Schema JSON as Iceberg table metadata holds it (any Iceberg type, maps included). */
export interface SchemaJsonLike {
  readonly fields: readonly SchemaFieldJsonLike[];
}
interface SchemaFieldJsonLike {
  readonly id: number;
  readonly name: string;
  readonly required: boolean;
  readonly type: SchemaTypeJsonLike;
}
type SchemaTypeJsonLike =
  | string
  | {
      readonly type: string;
      readonly fields?: readonly SchemaFieldJsonLike[];
      readonly 'element-id'?: number;
      readonly element?: SchemaTypeJsonLike;
      readonly 'element-required'?: boolean;
    };

/** A table's current schema (Iceberg metadata JSON) by path. */
export function flattenSchemaJson(schema: SchemaJsonLike): FlatSchema {
  const flat = new Map<string, FlatField>();
  const visit = (id: number, type: SchemaTypeJsonLike, required: boolean, path: string) => {
    flat.set(path, { id, type: typeof type === 'string' ? normalizeType(type) : type.type, required });
    if (typeof type === 'string') return;
    if (type.type === 'list' && type.element !== undefined)
      visit(type['element-id'] as number, type.element, type['element-required'] === true, `${path}.element`);
    if (type.type === 'struct')
      for (const f of type.fields ?? []) visit(f.id, f.type, f.required, `${path}.${f.name}`);
  };
  for (const f of schema.fields) visit(f.id, f.type, f.required, f.name);
  return flat;
}

/**
 * How `after` (the model) changes `before` (the table, or the schema
 * history): added fields, widened types, fields made optional. Anything else
 * is refused with every reason at once, before a table is touched.
 */
export function schemaChanges(table: string, before: FlatSchema, after: FlatSchema): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const refused: string[] = [];
  for (const [path, old] of before) {
    const now = after.get(path);
    if (now === undefined) {
      // A field inside a removed struct is reported with the struct.
      if (!after.has(parentPath(path)) && before.has(parentPath(path))) continue;
      refused.push(
        `table ${table}: column '${path}' (${old.type}) is in the table but no longer in the model. Removing or renaming a column is not supported (old rows keep their values under its name): declare '${path}' again; to rename it, keep it and add the new name as a new optional column.`,
      );
      continue;
    }
    if (now.type !== old.type) {
      if (isWidening(old.type, now.type)) changes.push({ kind: 'widen', path, from: old.type, to: now.type });
      else
        refused.push(
          `table ${table}: column '${path}' is ${old.type} in the table but ${now.type} in the model. Only widening is supported (int to long, float to double, decimal(P, S) to decimal(P2, S) with P2 > P): keep ${old.type}, or add a new optional column of type ${now.type}.`,
        );
    }
    if (old.required && !now.required) changes.push({ kind: 'make-optional', path });
    if (!old.required && now.required)
      refused.push(
        `table ${table}: column '${path}' (${old.type}) is optional in the table but required in the model. A column cannot become required (rows written before may lack it): keep it optional.`,
      );
  }
  for (const [path, field] of after) {
    if (before.has(path)) continue;
    // Fields of an added struct or list come with it.
    if (after.has(parentPath(path)) && !before.has(parentPath(path))) continue;
    if (field.required)
      refused.push(
        `table ${table}: new column '${path}' (${field.type}) is required. Columns added to an existing table must be optional (rows written before it have no value): declare it without required.`,
      );
    else changes.push({ kind: 'add', path, type: field.type });
  }
  if (refused.length > 0) throw new SchemaChangeRefused(refused);
  return changes;
}

/** The schema history after the model's tables: every path ever declared, with its latest declaration. */
export function nextSchemaHistory(
  history: SchemaHistory,
  tables: ReadonlyArray<{
    readonly name: string;
    readonly fields: readonly Field[];
    readonly lastColumnId: number;
  }>,
): SchemaHistory {
  const next: Record<string, TableHistory> = { ...history.tables };
  for (const table of tables) {
    const before = history.tables[table.name];
    const flat = flattenFields(table.fields);
    if (before !== undefined) schemaChanges(table.name, historySchema(before), flat);
    next[table.name] = {
      lastColumnId: Math.max(before?.lastColumnId ?? 0, table.lastColumnId),
      fields: { ...before?.fields, ...Object.fromEntries(flat) },
    };
  }
  return { tables: Object.fromEntries(Object.entries(next).sort(([a], [b]) => a.localeCompare(b))) };
}

export function historySchema(history: TableHistory): FlatSchema {
  return new Map(Object.entries(history.fields));
}

/** Iceberg's allowed type promotions (format v2). */
export function isWidening(from: string, to: string): boolean {
  if (from === 'int' && to === 'long') return true;
  if (from === 'float' && to === 'double') return true;
  const a = DECIMAL.exec(from);
  const b = DECIMAL.exec(to);
  return a !== null && b !== null && a[2] === b[2] && Number(b[1]) > Number(a[1]);
}

const DECIMAL = /^decimal\((\d+), ?(\d+)\)$/;

function normalizeType(type: string): string {
  const decimal = DECIMAL.exec(type);
  return decimal === null ? type : `decimal(${decimal[1]}, ${decimal[2]})`;
}

function typeName(type: FieldType): string {
  switch (type.kind) {
    case 'primitive':
      return type.name;
    case 'decimal':
      return `decimal(${type.precision}, ${type.scale})`;
    default:
      return type.kind;
  }
}

function parentPath(path: string): string {
  const dot = path.lastIndexOf('.');
  return dot < 0 ? '' : path.slice(0, dot);
}
