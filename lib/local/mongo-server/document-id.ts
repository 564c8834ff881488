import { BSON, type Document, ObjectId } from 'mongodb';
import { compareBson } from './bson-order.ts';
import { type ArrayElementsWriter, topLevelElement, topLevelField, valueSize } from './raw-bson.ts';

/** Where an ObjectId `_id` stored first (as drivers write it) has its 12 bytes: after the length and `07 _id 00`. */
const OBJECT_ID_AT = 9;

function objectIdFirst(raw: Uint8Array, at = 0): boolean {
  return (
    raw[at + 4] === 0x07 &&
    raw[at + 5] === 0x5f &&
    raw[at + 6] === 0x69 &&
    raw[at + 7] === 0x64 &&
    raw[at + 8] === 0
  );
}

/**
 * The `_id` of a stored document (at byte `at` of `bytes`) with exact types,
 * read from its bytes rather than kept beside them; undefined when it has none.
 */
export function storedId(bytes: Buffer, at = 0): unknown {
  if (!objectIdFirst(bytes, at)) return topLevelField(bytes.subarray(at, at + bytes.readInt32LE(at)), '_id');
  if (!OBJECT_ID_COPIES) return new ObjectId(bytes.subarray(at + OBJECT_ID_AT, at + OBJECT_ID_AT + 12));
  // Through one scratch array rather than a view made per id (an index test reads a million).
  for (let i = 0; i < 12; i++) ID_SCRATCH[i] = bytes[at + OBJECT_ID_AT + i] as number;
  return new ObjectId(ID_SCRATCH);
}

/** storedId, keeping nothing that refers to `bytes` (a buffer that is read into again). */
export function detachedStoredId(bytes: Buffer, at = 0): unknown {
  if (OBJECT_ID_COPIES && objectIdFirst(bytes, at)) return storedId(bytes, at);
  return storedId(Buffer.from(bytes.subarray(at, at + bytes.readInt32LE(at))));
}

const ID_SCRATCH = new Uint8Array(12);
/** Whether an ObjectId copies the bytes it is made from (bson 7 keeps them as numbers), so a scratch array can be reused. */
const OBJECT_ID_COPIES = (() => {
  const probe = new Uint8Array(12);
  const id = new ObjectId(probe);
  probe[0] = 1;
  return id.toHexString().startsWith('00');
})();

/** Where `_id`'s value starts in its element: after the type byte and `_id\0`. */
const ID_VALUE_AT = 1 + 4;

/**
 * Where the `_id` element (type, name, value) of the stored document at `at`
 * of `bytes` starts; -1 when it has none. Drivers write `_id` first: found
 * without a search then.
 */
function idElementAt(bytes: Buffer, at: number): number {
  const first = at + 4;
  if (
    bytes[first] !== 0 &&
    bytes[first + 1] === 0x5f &&
    bytes[first + 2] === 0x69 &&
    bytes[first + 3] === 0x64 &&
    bytes[first + 4] === 0
  )
    return first;
  return topLevelElement(bytes, '_id', at);
}

function idElementEnd(bytes: Buffer, start: number): number {
  return start + ID_VALUE_AT + valueSize(bytes, bytes[start] as number, start + ID_VALUE_AT);
}

/**
 * `{_id}` of the stored document at `at` of `bytes` (what a `{_id: 1}`
 * projection makes of it): its `_id` element copied, whatever its type, the
 * rest not read; `{}` when it has none.
 */
export function idDocument(bytes: Buffer, at = 0): Buffer {
  const start = idElementAt(bytes, at);
  const element = start < 0 ? 0 : idElementEnd(bytes, start) - start;
  const out = Buffer.allocUnsafe(4 + element + 1);
  out.writeInt32LE(out.length, 0);
  if (start >= 0) bytes.copy(out, 4, start, start + element);
  out[out.length - 1] = 0;
  return out;
}

/** Appends `idDocument(bytes, at)` to `out`, making no Buffer: a key listing writes a million. */
export function appendIdDocument(out: ArrayElementsWriter, bytes: Buffer, at: number): void {
  const start = idElementAt(bytes, at);
  if (start < 0) out.appendSingleElement(bytes, 0, 0);
  else out.appendSingleElement(bytes, start, idElementEnd(bytes, start));
}

/** The two documents' `_id`s in compareBson order; ObjectIds (the usual case) by their bytes, which is that order. */
export function compareStoredIds(a: Buffer, b: Buffer): number {
  if (objectIdFirst(a) && objectIdFirst(b)) return compareObjectIds(a, OBJECT_ID_AT, b, OBJECT_ID_AT);
  return compareBson(storedId(a), storedId(b));
}

/**
 * A stored document's `_id` compared with `value` by `compare` (compareBson
 * or one that knows more points), made once for a binary search: an
 * ObjectId is compared by its bytes without decoding the document's.
 */
export function idComparator(
  value: unknown,
  compare: (id: unknown, value: unknown) => number,
): (raw: Buffer) => number {
  if ((value as { _bsontype?: string } | null)?._bsontype !== 'ObjectId')
    return (raw) => compare(storedId(raw), value);
  const bytes = (value as ObjectId).id;
  return (raw) =>
    objectIdFirst(raw) ? compareObjectIds(raw, OBJECT_ID_AT, bytes, 0) : compare(storedId(raw), value);
}

/** The document with a new ObjectId `_id` first, as MongoDB inserts one without; undefined when it has an `_id`. */
export function withNewId(raw: Buffer): Buffer | undefined {
  if (objectIdFirst(raw) || topLevelField(raw, '_id') !== undefined) return undefined;
  const doc: Document = BSON.deserialize(raw, { promoteValues: false });
  return Buffer.from(BSON.serialize({ _id: new ObjectId(), ...doc }));
}

function compareObjectIds(a: Uint8Array, at: number, b: Uint8Array, bt: number): number {
  for (let i = 0; i < 12; i++) {
    const x = a[at + i] as number;
    const y = b[bt + i] as number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
