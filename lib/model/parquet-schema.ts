import type { SchemaElement } from 'hyparquet';
import type { Field, FieldType, Table } from './table.ts';

/**
 * The Parquet schema of a table's data files, following the Iceberg spec's
 * type mapping (decimals by precision: INT32 ≤ 9, INT64 ≤ 18, else fixed;
 * timestamps in microseconds; 3-level lists) with every field id set, so
 * Spark, DuckDB and pyiceberg resolve columns by id, not by name.
 */
export function parquetSchema(table: Table): SchemaElement[] {
  const out: SchemaElement[] = [{ name: 'schema', num_children: table.fields.length }];
  for (const field of table.fields) appendField(out, field);
  return out;
}

function appendField(out: SchemaElement[], field: Field): void {
  appendType(out, field.name, field.id, field.required, field.type);
}

function appendType(
  out: SchemaElement[],
  name: string,
  id: number,
  required: boolean,
  type: FieldType,
): void {
  const repetition_type = required ? 'REQUIRED' : 'OPTIONAL';
  switch (type.kind) {
    case 'primitive':
      out.push({ name, repetition_type, field_id: id, ...primitiveElement(type.name) });
      return;
    case 'decimal':
      out.push({
        name,
        repetition_type,
        field_id: id,
        ...decimalPhysical(type.precision),
        converted_type: 'DECIMAL',
        precision: type.precision,
        scale: type.scale,
        logical_type: { type: 'DECIMAL', precision: type.precision, scale: type.scale },
      });
      return;
    case 'list':
      out.push({
        name,
        repetition_type,
        field_id: id,
        num_children: 1,
        converted_type: 'LIST',
        logical_type: { type: 'LIST' },
      });
      out.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
      appendType(out, 'element', type.elementId, type.elementRequired, type.element);
      return;
    case 'struct':
      out.push({ name, repetition_type, field_id: id, num_children: type.fields.length });
      for (const child of type.fields) appendField(out, child);
      return;
  }
}

function primitiveElement(name: Extract<FieldType, { kind: 'primitive' }>['name']): Partial<SchemaElement> {
  switch (name) {
    case 'boolean':
      return { type: 'BOOLEAN' };
    case 'int':
      return { type: 'INT32' };
    case 'long':
      return { type: 'INT64' };
    case 'float':
      return { type: 'FLOAT' };
    case 'double':
      return { type: 'DOUBLE' };
    case 'date':
      return { type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } };
    case 'timestamp':
      return {
        type: 'INT64',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' },
      };
    case 'timestamptz':
      return {
        type: 'INT64',
        converted_type: 'TIMESTAMP_MICROS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
      };
    case 'string':
      return { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
    case 'binary':
      return { type: 'BYTE_ARRAY' };
  }
}

function decimalPhysical(precision: number): Partial<SchemaElement> {
  if (precision <= 9) return { type: 'INT32' };
  if (precision <= 18) return { type: 'INT64' };
  // Minimum bytes for the precision, as the Parquet spec defines it.
  return { type: 'FIXED_LEN_BYTE_ARRAY', type_length: Math.ceil((precision * Math.log2(10) + 1) / 8) };
}
