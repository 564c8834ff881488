import type { Field, FieldType, Table } from './table.ts';

/** JSON shapes of the Iceberg table spec (schemas and partition specs, format v2). */
export type IcebergTypeJson =
  | string
  | { type: 'list'; 'element-id': number; element: IcebergTypeJson; 'element-required': boolean }
  | { type: 'struct'; fields: IcebergFieldJson[] };

export interface IcebergFieldJson {
  id: number;
  name: string;
  required: boolean;
  type: IcebergTypeJson;
  doc?: string;
}

export function icebergSchemaJson(table: Table, schemaId = 0) {
  return {
    type: 'struct' as const,
    'schema-id': schemaId,
    fields: table.fields.map(fieldJson),
  };
}

export function icebergPartitionSpecJson(table: Table, specId = 0) {
  return {
    'spec-id': specId,
    fields: table.partitionFields.map((p) => ({
      name: p.name,
      transform: p.transform,
      'source-id': p.sourceId,
      'field-id': p.fieldId,
    })),
  };
}

function fieldJson(field: Field): IcebergFieldJson {
  return {
    id: field.id,
    name: field.name,
    required: field.required,
    type: typeJson(field.type),
    doc: field.doc,
  };
}

function typeJson(type: FieldType): IcebergTypeJson {
  switch (type.kind) {
    case 'primitive':
      return type.name;
    case 'decimal':
      return `decimal(${type.precision}, ${type.scale})`;
    case 'list':
      return {
        type: 'list',
        'element-id': type.elementId,
        element: typeJson(type.element),
        'element-required': type.elementRequired,
      };
    case 'struct':
      return { type: 'struct', fields: type.fields.map(fieldJson) };
  }
}
