import { ObjectId } from 'mongodb';
import type { Prng } from './prng.ts';

export interface DocumentClockProps {
  /** `updatedAt` of the first document, in epoch milliseconds. */
  readonly startMs: number;
  /** The 5 "process unique" bytes every generated ObjectId carries, as a real driver process would. */
  readonly processId: Uint8Array;
  /** First value of the 3-byte ObjectId counter. */
  readonly counterStart: number;
  /** Largest number of consecutive documents sharing one `updatedAt`. @default 10 */
  readonly maxGroupSize?: number;
  /** Largest step between two groups' `updatedAt`, in milliseconds. @default 1500 */
  readonly maxStepMs?: number;
}

const COUNTER_LIMIT = 0x1000000;

/**
 * Hands out `_id` and `updatedAt` in generation order. `updatedAt` is shared
 * by groups of consecutive documents (as a bulk write produces), because
 * incremental extraction must break timestamp ties by `_id`. ObjectIds take
 * their time from the clock and keep the real layout (4-byte seconds, 5-byte
 * process id, 3-byte counter), so they increase strictly in generation order.
 */
export class DocumentClock {
  private ms: number;
  private remainingInGroup = 0;
  private counter: number;
  private lastIdSecond = -1;
  private readonly processId: Uint8Array;
  private readonly maxGroupSize: number;
  private readonly maxStepMs: number;

  constructor(
    private readonly rng: Prng,
    props: DocumentClockProps,
  ) {
    if (props.processId.length !== 5)
      throw new Error(`processId must be 5 bytes, got ${props.processId.length}`);
    this.ms = props.startMs;
    this.counter = props.counterStart % COUNTER_LIMIT;
    this.processId = props.processId;
    this.maxGroupSize = props.maxGroupSize ?? 10;
    this.maxStepMs = props.maxStepMs ?? 1500;
    this.remainingInGroup = this.rng.int(1, this.maxGroupSize);
  }

  /** `updatedAt` for a document whose `_id` is fixed elsewhere (the brief's rows). */
  nextUpdatedAt(): Date {
    this.advance();
    return new Date(this.ms);
  }

  next(): { readonly _id: ObjectId; readonly updatedAt: Date } {
    this.advance();
    if (this.counter === COUNTER_LIMIT) {
      this.counter = 0;
      // A wrapped counter within the same second would sort before earlier ids.
      if (Math.floor(this.ms / 1000) === this.lastIdSecond) {
        this.startGroupAt((this.lastIdSecond + 1) * 1000);
        this.remainingInGroup--;
      }
    }
    const second = Math.floor(this.ms / 1000);
    const bytes = new Uint8Array(12);
    bytes[0] = second >>> 24;
    bytes[1] = (second >>> 16) & 0xff;
    bytes[2] = (second >>> 8) & 0xff;
    bytes[3] = second & 0xff;
    bytes.set(this.processId, 4);
    bytes[9] = this.counter >>> 16;
    bytes[10] = (this.counter >>> 8) & 0xff;
    bytes[11] = this.counter & 0xff;
    this.counter++;
    this.lastIdSecond = second;
    return { _id: new ObjectId(bytes), updatedAt: new Date(this.ms) };
  }

  private advance(): void {
    if (this.remainingInGroup > 0) {
      this.remainingInGroup--;
      return;
    }
    this.startGroupAt(this.ms + this.rng.int(1, this.maxStepMs));
    this.remainingInGroup--;
  }

  private startGroupAt(ms: number): void {
    this.ms = ms;
    this.remainingInGroup = this.rng.int(1, this.maxGroupSize);
  }
}

/** A clock whose ObjectId process bytes and counter start are drawn from `rng`, as a driver draws them at random. */
export function seededClock(rng: Prng, startMs: number): DocumentClock {
  const processId = Uint8Array.from({ length: 5 }, () => rng.int(0, 255));
  return new DocumentClock(rng, { startMs, processId, counterStart: rng.int(0, 0xffffff) });
}
