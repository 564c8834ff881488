import type { Field, FieldType } from './table.ts';
import type { ColumnSpec, IcebergType } from './types.ts';

/**
 * Assigns field ids the way Iceberg does for a new table (AssignFreshIds):
 * all fields of a struct take consecutive ids first, then each field's nested
 * types are numbered in order. New columns must therefore be appended at the
 * end of a table so existing ids never change.
 */
export function assignFieldIds(columns: readonly ColumnSpec[]): { fields: Field[]; lastColumnId: number } {
  let next = 1;
  const take = () => next++;

  const assignStruct = (specs: readonly ColumnSpec[]): Field[] => {
    const ids = specs.map(() => take());
    return specs.map((spec, i) => ({
      id: ids[i] as number,
      name: spec.name,
      required: spec.required,
      doc: spec.doc,
      type: assignType(spec.type),
      ...(spec.sourceField === undefined ? {} : { sourceField: spec.sourceField }),
    }));
  };

  const assignType = (type: IcebergType): FieldType => {
    switch (type.kind) {
      case 'primitive':
      case 'decimal':
        return type;
      case 'list': {
        const elementId = take();
        return {
          kind: 'list',
          elementId,
          element: assignType(type.element),
          elementRequired: type.elementRequired,
        };
      }
      case 'struct':
        return { kind: 'struct', fields: assignStruct(type.fields) };
    }
  };

  const fields = assignStruct(columns);
  return { fields, lastColumnId: next - 1 };
}
