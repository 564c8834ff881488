import { isUtf8 } from 'node:buffer';

/**
 * Canonical Extended JSON straight from a document's BSON bytes: the same
 * string as `EJSON.stringify(BSON.deserialize(bytes, { promoteValues: false }),
 * { relaxed: false })`, without building a JS object per value and another
 * per Extended JSON wrapper. The JSON is written as UTF-8 bytes into one
 * reused buffer and decoded once.
 *
 * Where the bson library does something a byte walk cannot follow cheaply it
 * returns undefined and the caller uses the library: DBRefs (deserialize turns
 * `$ref`/`$id` documents into DBRef objects and reorders their keys), DBPointers,
 * `_bsontype` keys (EJSON.stringify refuses them), keys that are not valid
 * UTF-8, regular expressions that JS cannot compile or EJSON refuses, and
 * malformed BSON (deserialize throws). Keys that JS orders differently from
 * their BSON order (integer-like keys) and duplicate keys (the last value wins,
 * at the first position) are handled as a JS object would.
 */
export function canonicalExtendedJson(bytes: Uint8Array, offset = 0): string | undefined {
  return writer.document(bytes, offset);
}

const MAX_DEPTH = 1000;
const KEY_SLOTS = 4096;
const INITIAL_CAPACITY = 64 * 1024;
/** After a larger document the buffer shrinks back, so one huge document does not stay resident. */
const RETAINED_CAPACITY = 1024 * 1024;
const DATE_LIMIT_MS = 8.64e15;
const TWO_32 = 4294967296;

/** Thrown to stop the walk; never escapes `canonicalExtendedJson`. */
const UNSUPPORTED = new Error('not handled by the raw Extended JSON writer');

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const HEX = ascii('0123456789abcdef');
const TEXT = {
  oid: ascii('{"$oid":"'),
  int: ascii('{"$numberInt":"'),
  long: ascii('{"$numberLong":"'),
  double: ascii('{"$numberDouble":"'),
  decimal: ascii('{"$numberDecimal":"'),
  date: ascii('{"$date":{"$numberLong":"'),
  binary: ascii('{"$binary":{"base64":"'),
  subType: ascii('","subType":"'),
  timestamp: ascii('{"$timestamp":{"t":'),
  timestampI: ascii(',"i":'),
  code: ascii('{"$code":'),
  scope: ascii(',"$scope":'),
  symbol: ascii('{"$symbol":'),
  regex: ascii('{"$regularExpression":{"pattern":'),
  regexOptions: ascii(',"options":"'),
  minKey: ascii('{"$minKey":1}'),
  maxKey: ascii('{"$maxKey":1}'),
  null: ascii('null'),
  true: ascii('true'),
  false: ascii('false'),
  closeString: ascii('"}'),
  closeNested: ascii('"}}'),
  closeObjects: ascii('}}'),
};

/** How JSON.stringify escapes the bytes it escapes: those below 0x20, `"` and `\`. */
const ESCAPES: Uint8Array[] = Array.from({ length: 0x5d }, (_, b) => {
  const short: Record<number, string> = { 8: 'b', 9: 't', 10: 'n', 12: 'f', 13: 'r', 34: '"', 92: '\\' };
  return ascii(short[b] !== undefined ? `\\${short[b]}` : `\\u${b.toString(16).padStart(4, '0')}`);
});

const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);

class RawEjsonWriter {
  private src: Uint8Array = EMPTY;
  private view: DataView = EMPTY_VIEW;
  private out = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private pos = 0;
  private nonAscii = false;
  /** Per open document, per field: the key's offset in `src`, the field's start in `out`, its key slot. */
  private fields = new Int32Array(3 * 256);
  private fieldTop = 0;
  /** Duplicate detection: a slot seen with the current stamp was already a key of this document. */
  private readonly slotStamps = new Int32Array(KEY_SLOTS);
  private stamp = 0;

  document(bytes: Uint8Array, offset: number): string | undefined {
    this.src = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
    this.nonAscii = false;
    this.fieldTop = 0;
    try {
      this.object(offset, bytes.length, 0, true);
      return this.out.toString(this.nonAscii ? 'utf8' : 'latin1', 0, this.pos);
    } catch {
      // Any surprise (malformed BSON included) leaves the document to the bson library.
      return undefined;
    } finally {
      this.src = EMPTY;
      this.view = EMPTY_VIEW;
      if (this.out.length > RETAINED_CAPACITY) this.out = Buffer.allocUnsafe(INITIAL_CAPACITY);
    }
  }

  /**
   * Writes the document at `start` as a JSON object; returns the offset after
   * it. `refs`: whether deserialize would make a DBRef of it (a code-with-scope's
   * scope it never does).
   */
  private object(start: number, limit: number, depth: number, refs: boolean): number {
    const end = this.documentEnd(start, limit, depth);
    const src = this.src;
    const base = this.fieldTop;
    const docStart = this.pos;
    let reorder = false;
    this.byte(0x7b);
    let i = start + 4;
    for (;;) {
      if (i >= end) throw UNSUPPORTED;
      const type = src[i++] as number;
      if (type === 0) break;
      const keyStart = i;
      let hash = 0x811c9dc5;
      let b = src[i] as number;
      while (b !== 0) {
        hash = Math.imul(hash ^ b, 0x01000193);
        b = src[++i] as number;
        if (i >= end) throw UNSUPPORTED;
      }
      const keyLength = i - keyStart;
      i++;
      if (this.fieldTop > base) this.byte(0x2c);
      this.pushField(keyStart, hash & (KEY_SLOTS - 1));
      const first = src[keyStart] as number;
      // Integer-like keys come first in a JS object, whatever their BSON position.
      if (first >= 0x30 && first <= 0x39) reorder = true;
      if (refs && first === 0x24 && isRef(src, keyStart, keyLength)) throw UNSUPPORTED;
      if (first === 0x5f && isBsonType(src, keyStart, keyLength)) throw UNSUPPORTED;
      this.string(keyStart, keyStart + keyLength);
      this.byte(0x3a);
      i = this.value(type, i, end, depth);
    }
    if (i !== end) throw UNSUPPORTED;
    const count = (this.fieldTop - base) / 3;
    if (count > 1 && this.hasDuplicateSlot(base)) reorder = true;
    if (reorder) this.reorder(docStart, base, count);
    this.fieldTop = base;
    this.byte(0x7d);
    return end;
  }

  private array(start: number, limit: number, depth: number): number {
    const end = this.documentEnd(start, limit, depth);
    const src = this.src;
    this.byte(0x5b);
    let i = start + 4;
    let first = true;
    for (;;) {
      if (i >= end) throw UNSUPPORTED;
      const type = src[i++] as number;
      if (type === 0) break;
      // deserialize numbers array elements itself and never reads their keys.
      while (src[i] !== 0) if (++i >= end) throw UNSUPPORTED;
      i++;
      if (!first) this.byte(0x2c);
      first = false;
      i = this.value(type, i, end, depth);
    }
    if (i !== end) throw UNSUPPORTED;
    this.byte(0x5d);
    return end;
  }

  /** The end of the document or array at `start`, checked as deserialize checks it. */
  private documentEnd(start: number, limit: number, depth: number): number {
    if (depth > MAX_DEPTH || start + 5 > limit) throw UNSUPPORTED;
    const size = this.view.getInt32(start, true);
    const end = start + size;
    if (size < 5 || end > limit || this.src[end - 1] !== 0) throw UNSUPPORTED;
    return end;
  }

  /** Writes one value of BSON type `type` starting at `i` (inside a container ending at `end`); returns the offset after it. */
  private value(type: number, i: number, end: number, depth: number): number {
    const view = this.view;
    // Every value must leave room for its container's terminating zero.
    const room = end - 1 - i;
    switch (type) {
      case 0x01: {
        if (room < 8) throw UNSUPPORTED;
        this.wrapped(TEXT.double, doubleText(view.getFloat64(i, true)), TEXT.closeString);
        return i + 8;
      }
      case 0x02:
        return this.stringValue(i, end);
      case 0x03:
        return this.object(i, end - 1, depth + 1, true);
      case 0x04:
        return this.array(i, end - 1, depth + 1);
      case 0x05:
        return this.binary(i, end);
      case 0x06:
      case 0x0a:
        this.bytes(TEXT.null);
        return i;
      case 0x07: {
        if (room < 12) throw UNSUPPORTED;
        this.bytes(TEXT.oid);
        this.hex(i, i + 12);
        this.bytes(TEXT.closeString);
        return i + 12;
      }
      case 0x08: {
        const b = this.src[i];
        if (room < 1 || (b !== 0 && b !== 1)) throw UNSUPPORTED;
        this.bytes(b === 1 ? TEXT.true : TEXT.false);
        return i + 1;
      }
      case 0x09: {
        if (room < 8) throw UNSUPPORTED;
        // As deserialize: Long.toNumber, then a Date (NaN beyond its range).
        const ms = view.getInt32(i + 4, true) * TWO_32 + view.getUint32(i, true);
        this.wrapped(TEXT.date, Math.abs(ms) > DATE_LIMIT_MS ? 'NaN' : String(ms), TEXT.closeNested);
        return i + 8;
      }
      case 0x0b:
        return this.regex(i, end);
      case 0x0d: {
        this.bytes(TEXT.code);
        const next = this.stringValue(i, end);
        this.byte(0x7d);
        return next;
      }
      case 0x0e: {
        this.bytes(TEXT.symbol);
        const next = this.stringValue(i, end);
        this.byte(0x7d);
        return next;
      }
      case 0x0f:
        return this.codeWithScope(i, end, depth);
      case 0x10: {
        if (room < 4) throw UNSUPPORTED;
        this.wrapped(TEXT.int, String(view.getInt32(i, true)), TEXT.closeString);
        return i + 4;
      }
      case 0x11: {
        if (room < 8) throw UNSUPPORTED;
        this.bytes(TEXT.timestamp);
        this.ascii(String(view.getUint32(i + 4, true)));
        this.bytes(TEXT.timestampI);
        this.ascii(String(view.getUint32(i, true)));
        this.bytes(TEXT.closeObjects);
        return i + 8;
      }
      case 0x12: {
        if (room < 8) throw UNSUPPORTED;
        this.wrapped(TEXT.long, longText(view, i), TEXT.closeString);
        return i + 8;
      }
      case 0x13: {
        if (room < 16) throw UNSUPPORTED;
        this.wrapped(TEXT.decimal, decimal128Text(view, i), TEXT.closeString);
        return i + 16;
      }
      case 0x7f:
        this.bytes(TEXT.maxKey);
        return i;
      case 0xff:
        this.bytes(TEXT.minKey);
        return i;
      default:
        // 0x0c DBPointer (deserialize makes it a DBRef) and unknown types.
        throw UNSUPPORTED;
    }
  }

  /** A length-prefixed UTF-8 string (string, code, symbol) as a JSON string. */
  private stringValue(i: number, end: number): number {
    if (end - 1 - i < 5) throw UNSUPPORTED;
    const size = this.view.getInt32(i, true);
    const stop = i + 4 + size;
    if (size <= 0 || stop > end - 1 || this.src[stop - 1] !== 0) throw UNSUPPORTED;
    this.string(i + 4, stop - 1);
    return stop;
  }

  private binary(i: number, end: number): number {
    if (end - 1 - i < 5) throw UNSUPPORTED;
    const size = this.view.getInt32(i, true);
    const subType = this.src[i + 4] as number;
    const stop = i + 5 + size;
    if (size < 0 || stop > end - 1) throw UNSUPPORTED;
    let data = i + 5;
    // The old binary subtype repeats the length inside; deserialize keeps what follows it.
    if (subType === 0x02) {
      if (size < 4 || this.view.getInt32(data, true) !== size - 4) throw UNSUPPORTED;
      data += 4;
    }
    if (subType === 0x09 && !isValidVector(this.src, data, stop)) throw UNSUPPORTED;
    this.bytes(TEXT.binary);
    this.ascii(Buffer.from(this.src.buffer, this.src.byteOffset + data, stop - data).toString('base64'));
    this.bytes(TEXT.subType);
    this.byte(HEX[subType >> 4] as number);
    this.byte(HEX[subType & 15] as number);
    this.bytes(TEXT.closeNested);
    return stop;
  }

  /**
   * deserialize builds a JS RegExp (BSON option `s` becomes flag `g`, unknown
   * options are dropped) and EJSON writes its `source` and sorted flags back;
   * doing the same keeps every escaping quirk. It throws where they throw.
   */
  private regex(i: number, end: number): number {
    const patternEnd = this.cstringEnd(i, end);
    const optionsEnd = this.cstringEnd(patternEnd + 1, end);
    const flags = [...this.decode(patternEnd + 1, optionsEnd)]
      .map((option) => ({ m: 'm', s: 'g', i: 'i' })[option] ?? '')
      .join('');
    const regexp = new RegExp(this.decode(i, patternEnd), flags);
    const options = [...regexp.flags].sort().join('');
    if (options.includes('g')) throw UNSUPPORTED;
    this.bytes(TEXT.regex);
    this.json(JSON.stringify(regexp.source));
    this.bytes(TEXT.regexOptions);
    this.ascii(options);
    this.bytes(TEXT.closeNested);
    return optionsEnd + 1;
  }

  private codeWithScope(i: number, end: number, depth: number): number {
    if (end - 1 - i < 14) throw UNSUPPORTED;
    const total = this.view.getInt32(i, true);
    const stop = i + total;
    if (total < 14 || stop > end - 1) throw UNSUPPORTED;
    this.bytes(TEXT.code);
    const scopeStart = this.stringValue(i + 4, stop + 1);
    this.bytes(TEXT.scope);
    if (this.object(scopeStart, stop, depth + 1, false) !== stop) throw UNSUPPORTED;
    this.byte(0x7d);
    return stop;
  }

  /** The bytes [start, stop) of a key or string value as a JSON string, escaped as JSON.stringify escapes. */
  private string(start: number, stop: number): void {
    this.reserve(6 * (stop - start) + 2);
    const src = this.src;
    const out = this.out;
    let pos = this.pos;
    let high = 0;
    out[pos++] = 0x22;
    for (let k = start; k < stop; k++) {
      const b = src[k] as number;
      if (b >= 0x20 && b !== 0x22 && b !== 0x5c) {
        out[pos++] = b;
        high |= b;
      } else {
        const escaped = ESCAPES[b] as Uint8Array;
        out.set(escaped, pos);
        pos += escaped.length;
      }
    }
    out[pos++] = 0x22;
    this.pos = pos;
    if (high >= 0x80) {
      // deserialize refuses invalid UTF-8 in values; keys it would decode lossily are left to it too.
      if (!isUtf8(src.subarray(start, stop))) throw UNSUPPORTED;
      this.nonAscii = true;
    }
  }

  private cstringEnd(i: number, end: number): number {
    const src = this.src;
    while (src[i] !== 0) if (++i >= end - 1) throw UNSUPPORTED;
    return i;
  }

  /** Text as bson decodes keys and regex parts: lossy UTF-8. */
  private decode(start: number, stop: number): string {
    return Buffer.from(this.src.buffer, this.src.byteOffset + start, stop - start).toString('utf8');
  }

  private pushField(keyStart: number, slot: number): void {
    if (this.fieldTop + 3 > this.fields.length) {
      const grown = new Int32Array(this.fields.length * 2);
      grown.set(this.fields);
      this.fields = grown;
    }
    const fields = this.fields;
    fields[this.fieldTop++] = keyStart;
    fields[this.fieldTop++] = this.pos;
    fields[this.fieldTop++] = slot;
  }

  /** Keys hashing to the same slot: maybe the same key twice (different keys sharing a slot only cost the slow path). */
  private hasDuplicateSlot(base: number): boolean {
    if (++this.stamp === 2 ** 31 - 1) {
      this.slotStamps.fill(0);
      this.stamp = 1;
    }
    const stamp = this.stamp;
    const stamps = this.slotStamps;
    const fields = this.fields;
    for (let f = base + 2; f < this.fieldTop; f += 3) {
      const slot = fields[f] as number;
      if (stamps[slot] === stamp) return true;
      stamps[slot] = stamp;
    }
    return false;
  }

  /**
   * Rewrites the fields written since `docStart` in the order a JS object
   * enumerates them (integer-like keys ascending, then insertion order),
   * keeping the last value of a repeated key at its first position.
   */
  private reorder(docStart: number, base: number, count: number): void {
    const fields = this.fields;
    const written = Buffer.from(this.out.subarray(docStart, this.pos));
    const fieldAt = (f: number) => fields[base + 3 * f + 1] as number;
    const bounds = (f: number): [number, number] => [
      fieldAt(f) - docStart,
      f + 1 < count ? fieldAt(f + 1) - 1 - docStart : written.length,
    ];
    const latest: Record<string, number> = Object.create(null);
    for (let f = 0; f < count; f++) {
      const keyStart = fields[base + 3 * f] as number;
      latest[this.decode(keyStart, this.src.indexOf(0, keyStart))] = f;
    }
    this.pos = docStart + 1;
    let first = true;
    for (const f of Object.values(latest)) {
      if (!first) this.byte(0x2c);
      first = false;
      const [from, to] = bounds(f);
      this.out.set(written.subarray(from, to), this.pos);
      this.pos += to - from;
    }
  }

  private wrapped(prefix: Uint8Array, text: string, suffix: Uint8Array): void {
    this.bytes(prefix);
    this.ascii(text);
    this.bytes(suffix);
  }

  private hex(start: number, stop: number): void {
    this.reserve(2 * (stop - start));
    const src = this.src;
    const out = this.out;
    let pos = this.pos;
    for (let k = start; k < stop; k++) {
      const b = src[k] as number;
      out[pos++] = HEX[b >> 4] as number;
      out[pos++] = HEX[b & 15] as number;
    }
    this.pos = pos;
  }

  private ascii(text: string): void {
    this.reserve(text.length);
    const out = this.out;
    let pos = this.pos;
    for (let k = 0; k < text.length; k++) out[pos++] = text.charCodeAt(k);
    this.pos = pos;
  }

  /** Text that is already JSON (escaped) and may hold any character. */
  private json(text: string): void {
    this.reserve(3 * text.length);
    const written = this.out.write(text, this.pos, 'utf8');
    if (written !== text.length) this.nonAscii = true;
    this.pos += written;
  }

  private bytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    const out = this.out;
    let pos = this.pos;
    for (let k = 0; k < bytes.length; k++) out[pos++] = bytes[k] as number;
    this.pos = pos;
  }

  private byte(b: number): void {
    this.reserve(1);
    this.out[this.pos++] = b;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.out.length) return;
    let capacity = this.out.length * 2;
    while (capacity < this.pos + n) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.out.copy(grown, 0, 0, this.pos);
    this.out = grown;
  }
}

const writer = new RawEjsonWriter();

function isRef(src: Uint8Array, k: number, length: number): boolean {
  return length === 4 && src[k + 1] === 0x72 && src[k + 2] === 0x65 && src[k + 3] === 0x66;
}

const BSONTYPE = ascii('_bsontype');
function isBsonType(src: Uint8Array, k: number, length: number): boolean {
  if (length !== BSONTYPE.length) return false;
  for (let j = 0; j < length; j++) if (src[k + j] !== BSONTYPE[j]) return false;
  return true;
}

/** bson's Double.toExtendedJSON: `-0.0`, integers with one decimal, everything else as JS prints it. */
function doubleText(value: number): string {
  if (value === 0 && 1 / value < 0) return '-0.0';
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

function longText(view: DataView, i: number): string {
  const high = view.getInt32(i + 4, true);
  // Within ±2^53 a double holds the value exactly.
  if (high >= -0x200000 && high < 0x200000) return String(high * TWO_32 + view.getUint32(i, true));
  return view.getBigInt64(i, true).toString();
}

/** bson's Decimal128.toString, non-canonical encodings included. */
function decimal128Text(view: DataView, i: number): string {
  const low = view.getUint32(i, true);
  const midl = view.getUint32(i + 4, true);
  const midh = view.getUint32(i + 8, true);
  const high = view.getInt32(i + 12, true);
  const sign = high < 0 ? '-' : '';
  const combination = (high >> 26) & 0x1f;
  let exponent: number;
  let msb: number;
  if (combination >> 3 === 3) {
    if (combination === 30) return `${sign}Infinity`;
    if (combination === 31) return 'NaN';
    exponent = ((high >> 15) & 0x3fff) - 6176;
    msb = 0x08 + ((high >> 14) & 0x01);
  } else {
    exponent = ((high >> 17) & 0x3fff) - 6176;
    msb = (high >> 14) & 0x07;
  }
  const top = (high & 0x3fff) + (msb << 14);
  const digits =
    top === 0 && midh === 0 && midl < 0x200000
      ? String(midl * TWO_32 + low)
      : ((BigInt(top) << 96n) | (BigInt(midh) << 64n) | (BigInt(midl) << 32n) | BigInt(low)).toString();
  const n = digits.length;
  const scientific = n - 1 + exponent;
  if (scientific >= 34 || scientific <= -7 || exponent > 0) {
    // A coefficient beyond 34 digits is not canonical: bson prints it as zero.
    if (n > 34) return `${sign}0${exponent > 0 ? `E+${exponent}` : exponent < 0 ? `E${exponent}` : ''}`;
    const fraction = n > 1 ? `.${digits.slice(1)}` : '';
    return `${sign}${digits[0]}${fraction}E${scientific > 0 ? '+' : ''}${scientific}`;
  }
  if (exponent === 0) return sign + digits;
  const point = n + exponent;
  if (point > 0) return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  return `${sign}0.${'0'.repeat(-point)}${digits}`;
}

/** bson's validateBinaryVector: EJSON.stringify throws on these. */
function isValidVector(src: Uint8Array, start: number, stop: number): boolean {
  const size = stop - start;
  // Read as bson reads them: undefined past the end of a short vector.
  const datatype = size > 0 ? src[start] : undefined;
  const padding = size > 1 ? (src[start + 1] as number) : Number.NaN;
  if ((datatype === 0x03 || datatype === 0x27) && padding !== 0) return false;
  if (datatype === 0x27 && size !== 0 && size - 2 !== 0 && (size - 2) % 4 !== 0) return false;
  if (datatype === 0x10 && padding !== 0 && size === 2) return false;
  if (datatype === 0x10 && padding > 7) return false;
  return true;
}
