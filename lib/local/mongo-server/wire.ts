import { BSON, type Document } from 'mongodb';

/**
 * MongoDB wire protocol framing: OP_MSG (2013) for every command and the
 * legacy OP_QUERY (2004) / OP_REPLY (1) pair that drivers still use for the
 * first handshake.
 */
export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;
const CHECKSUM_PRESENT = 1;

export interface Command {
  readonly requestId: number;
  readonly opCode: number;
  /** The command with numbers promoted to JS numbers: what filters and options are read from. */
  readonly body: Document;
  /** The raw body bytes, to re-read values with their exact BSON types (inserts, updates). */
  readonly rawBody: Buffer;
  /** OP_MSG kind-1 sections (e.g. `documents` of an insert), as raw BSON documents. */
  readonly sequences: ReadonlyMap<string, readonly Buffer[]>;
}

/** Splits a byte stream into whole messages; keeps partial ones for the next chunk. */
export class MessageFramer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: Buffer[] = [];
    while (this.pending.length >= 4) {
      const length = this.pending.readInt32LE(0);
      if (length < 16) throw new Error(`invalid message length ${length}`);
      if (this.pending.length < length) break;
      messages.push(this.pending.subarray(0, length));
      this.pending = this.pending.subarray(length);
    }
    return messages;
  }
}

export function parseMessage(message: Buffer): Command {
  const requestId = message.readInt32LE(4);
  const opCode = message.readInt32LE(12);
  if (opCode === OP_MSG) return parseOpMsg(message, requestId);
  if (opCode === OP_QUERY) return parseOpQuery(message, requestId);
  throw new Error(`unsupported wire protocol opCode ${opCode}`);
}

function parseOpMsg(message: Buffer, requestId: number): Command {
  const flags = message.readUInt32LE(16);
  const end = flags & CHECKSUM_PRESENT ? message.length - 4 : message.length;
  let offset = 20;
  let rawBody: Buffer | undefined;
  const sequences = new Map<string, Buffer[]>();
  while (offset < end) {
    const kind = message.readUInt8(offset);
    offset += 1;
    if (kind === 0) {
      const size = message.readInt32LE(offset);
      rawBody = message.subarray(offset, offset + size);
      offset += size;
    } else if (kind === 1) {
      const size = message.readInt32LE(offset);
      const sectionEnd = offset + size;
      let cursor = offset + 4;
      const nameEnd = message.indexOf(0, cursor);
      const name = message.toString('utf8', cursor, nameEnd);
      cursor = nameEnd + 1;
      const docs: Buffer[] = [];
      while (cursor < sectionEnd) {
        const docSize = message.readInt32LE(cursor);
        docs.push(message.subarray(cursor, cursor + docSize));
        cursor += docSize;
      }
      sequences.set(name, docs);
      offset = sectionEnd;
    } else {
      throw new Error(`unsupported OP_MSG section kind ${kind}`);
    }
  }
  if (rawBody === undefined) throw new Error('OP_MSG without a body section');
  return { requestId, opCode: OP_MSG, body: BSON.deserialize(rawBody), rawBody, sequences };
}

function parseOpQuery(message: Buffer, requestId: number): Command {
  let offset = 20;
  const nameEnd = message.indexOf(0, offset);
  offset = nameEnd + 1 + 8; // numberToSkip, numberToReturn
  const size = message.readInt32LE(offset);
  const rawBody = message.subarray(offset, offset + size);
  let body = BSON.deserialize(rawBody);
  // Legacy drivers wrap the command as { $query: {...}, $readPreference }.
  if (body.$query !== undefined) body = body.$query as Document;
  return { requestId, opCode: OP_QUERY, body, rawBody, sequences: new Map() };
}

let nextResponseId = 1;

/** Encodes a reply in the form the request came in. */
export function encodeReply(request: Command, reply: Buffer): Buffer {
  const responseId = nextResponseId++;
  if (request.opCode === OP_QUERY) {
    const header = Buffer.alloc(36);
    header.writeInt32LE(36 + reply.length, 0);
    header.writeInt32LE(responseId, 4);
    header.writeInt32LE(request.requestId, 8);
    header.writeInt32LE(OP_REPLY, 12);
    header.writeInt32LE(0, 16); // responseFlags
    header.writeBigInt64LE(0n, 20); // cursorID
    header.writeInt32LE(0, 28); // startingFrom
    header.writeInt32LE(1, 32); // numberReturned
    return Buffer.concat([header, reply]);
  }
  const header = Buffer.alloc(21);
  header.writeInt32LE(21 + reply.length, 0);
  header.writeInt32LE(responseId, 4);
  header.writeInt32LE(request.requestId, 8);
  header.writeInt32LE(OP_MSG, 12);
  header.writeUInt32LE(0, 16); // flagBits
  header.writeUInt8(0, 20); // section kind 0
  return Buffer.concat([header, reply]);
}
