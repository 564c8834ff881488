import { Decimal128, type Document, Int32, ObjectId } from 'mongodb';

/**
 * Source documents of small hand-made ledgers, as the accounting
 * application writes them: ObjectIds from a number, midnight UTC dates,
 * Int32 account codes and Decimal128 amounts.
 */
export const oid = (n: number) => new ObjectId(n.toString(16).padStart(24, '0'));

/** Midnight UTC of a `YYYY-MM-DD` day. */
export const at = (iso: string) => new Date(`${iso}T00:00:00Z`);

/** An active account document `_id` oid(n), changed at `updatedAt`. */
export function accountDoc(n: number, id: number, name: string, type: string, updatedAt: string): Document {
  return {
    _id: oid(n),
    account_id: new Int32(id),
    account_name: name,
    account_type: type,
    is_active: true,
    updatedAt: at(updatedAt),
  };
}

/** Journal entry E<n> (`_id` oid(0x100 + n)) on `date`, changed that day; lines are [account, debit, credit]. */
export function entryDoc(n: number, date: string, lines: readonly [number, string, string][]): Document {
  return {
    _id: oid(0x100 + n),
    entry_id: `E${n}`,
    date: at(date),
    description: `entry ${n}`,
    lines: lines.map(([id, debit, credit]) => ({
      account_id: new Int32(id),
      debit: Decimal128.fromString(debit),
      credit: Decimal128.fromString(credit),
    })),
    updatedAt: at(date),
  };
}
