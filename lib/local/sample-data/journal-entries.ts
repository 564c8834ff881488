import { type Decimal128, Int32, ObjectId } from 'mongodb';
import { firstOfMonth, lastOfMonth, moneyFromCents, utcMidnight } from './bson-values.ts';
import { seededClock } from './document-clock.ts';
import {
  type DayRule,
  ENTRY_TEMPLATES,
  type EntryTemplate,
  type Leg,
  TOTAL_TEMPLATE_WEIGHT,
} from './entry-templates.ts';
import {
  type ResolvedSampleDataOptions,
  resolveSampleDataOptions,
  type SampleDataOptions,
} from './options.ts';
import { Prng } from './prng.ts';

export type JournalLine = { account_id: Int32; debit: Decimal128; credit: Decimal128 };

export type JournalEntryDocument = {
  _id: ObjectId;
  entry_id: string;
  date: Date;
  description: string;
  lines: JournalLine[];
  updatedAt: Date;
};

/** The brief's sample row; its id's time is 2025-09-17T11:26:02Z. */
const BRIEF_ENTRY_ID = '68ca9aca193e5d257e046f22';
/** Generated ids start one second after the brief's, so every one of them sorts after it. */
const ENTRIES_START_MS = (0x68ca9aca + 1) * 1000;
const ENTRIES_STREAM = 2;
const FIRST_ENTRY_NUMBER = 1001;

/**
 * Journal entries JE1001, JE1002, … one at a time, so any count streams in
 * constant memory. Nothing depends on the requested count: a shorter run is
 * a prefix of a longer one with the same seed.
 */
export function generateJournalEntries(options: SampleDataOptions = {}): Generator<JournalEntryDocument> {
  return journalEntries(resolveSampleDataOptions(options));
}

function* journalEntries(options: ResolvedSampleDataOptions): Generator<JournalEntryDocument> {
  const rng = new Prng(options.seed, ENTRIES_STREAM);
  const clock = seededClock(rng, ENTRIES_START_MS);
  for (let n = 0; n < options.journalEntries; n++) {
    const entryId = `JE${FIRST_ENTRY_NUMBER + n}`;
    if (n === 0) {
      yield briefEntry(entryId, clock.nextUpdatedAt());
      continue;
    }
    if (n === 1) {
      yield openingBalances(entryId, clock.next(), options.startDay);
      continue;
    }
    const { _id, updatedAt } = clock.next();
    const template = rng.weighted(ENTRY_TEMPLATES, TOTAL_TEMPLATE_WEIGHT);
    const date = utcMidnight(entryDay(rng, template.day, options.startDay, options.endDay));
    const amounts = lineAmounts(rng, template);
    if (rng.chance(options.unbalancedRatio)) misstate(rng, amounts);
    yield {
      _id,
      entry_id: entryId,
      date,
      description: template.description,
      lines: toLines(amounts),
      updatedAt,
    };
  }
}

function briefEntry(entryId: string, updatedAt: Date): JournalEntryDocument {
  return {
    _id: new ObjectId(BRIEF_ENTRY_ID),
    entry_id: entryId,
    date: new Date('2025-05-31T00:00:00.000Z'),
    description: 'Vendor payment',
    lines: toLines([
      { accountId: 1000, side: 'debit', cents: 50_000 },
      { accountId: 2000, side: 'credit', cents: 50_000 },
    ]),
    updatedAt,
  };
}

/**
 * The company's balances when its books move to this application, dated the
 * first day of the data: cash, stock and equipment, financed by shares and a loan.
 */
function openingBalances(
  entryId: string,
  { _id, updatedAt }: { _id: ObjectId; updatedAt: Date },
  startDay: number,
): JournalEntryDocument {
  return {
    _id,
    entry_id: entryId,
    date: utcMidnight(startDay),
    description: 'Opening balances',
    lines: toLines([
      { accountId: 1000, side: 'debit', cents: 40_000_000 },
      { accountId: 1200, side: 'debit', cents: 15_000_000 },
      { accountId: 1500, side: 'debit', cents: 20_000_000 },
      { accountId: 3000, side: 'credit', cents: 40_000_000 },
      { accountId: 3300, side: 'credit', cents: 10_000_000 },
      { accountId: 2500, side: 'credit', cents: 25_000_000 },
    ]),
    updatedAt,
  };
}

interface LineAmount {
  readonly accountId: number;
  readonly side: 'debit' | 'credit';
  cents: number;
}

/** Debit lines then credit lines, each side summing to the same drawn total. */
function lineAmounts(rng: Prng, template: EntryTemplate): LineAmount[] {
  const debitLegs = presentLegs(rng, template.debits);
  const creditLegs = presentLegs(rng, template.credits);
  const total = entryTotal(rng, template, Math.max(debitLegs.length, creditLegs.length));
  return [...side(rng, debitLegs, 'debit', total), ...side(rng, creditLegs, 'credit', total)];
}

/** The first leg of a side is always present, so no side is ever empty. */
function presentLegs(rng: Prng, legs: readonly Leg[]): Leg[] {
  return legs.filter((leg, index) => index === 0 || rng.chance(leg.chance));
}

function entryTotal(rng: Prng, template: EntryTemplate, lineCount: number): number {
  const [min, max] = template.amount;
  let u = rng.fraction();
  const base = u;
  for (let i = 1; i < template.skew; i++) u *= base;
  let cents = min * 100 + Math.floor((max - min) * 100 * u);
  const roundTo = template.roundToCents ?? 1;
  cents = Math.max(roundTo, Math.round(cents / roundTo) * roundTo);
  return Math.max(cents, lineCount);
}

/** Splits `total` cents in proportion to each leg's drawn weight; every line gets at least one cent. */
function side(rng: Prng, legs: readonly Leg[], sideName: 'debit' | 'credit', total: number): LineAmount[] {
  const weights = legs.map((leg) => rng.int(leg.share[0], leg.share[1]));
  const weightSum = weights.reduce((sum, weight) => sum + weight, 0);
  const lines = legs.map((leg, index) => ({
    accountId: rng.pick(leg.accounts),
    side: sideName,
    cents: index === 0 ? 0 : Math.max(1, Math.floor((total * (weights[index] ?? 0)) / weightSum)),
  }));
  const [first] = lines;
  if (first !== undefined) first.cents = total - lines.reduce((sum, line) => sum + line.cents, 0);
  return lines;
}

/**
 * Turns a balanced entry into an unbalanced one the way people do: a
 * transposed pair of digits, a slip of a few cents, or a wrong power of ten
 * on one line. Only one line changes, so the sides always differ.
 */
function misstate(rng: Prng, amounts: LineAmount[]): void {
  const line = rng.pick(amounts);
  const original = line.cents;
  const kind = rng.int(0, 2);
  let changed = original;
  if (kind === 0) changed = transposeDigits(rng, original);
  else if (kind === 1) changed = original + (rng.chance(0.5) ? 1 : -1) * rng.int(1, 99);
  else changed = rng.chance(0.5) ? original * 10 : Math.floor(original / 10);
  line.cents = changed >= 1 && changed !== original ? changed : original + 1;
}

function transposeDigits(rng: Prng, cents: number): number {
  const digits = String(cents).split('');
  if (digits.length < 2) return cents;
  const at = rng.int(0, digits.length - 2);
  const left = digits[at] ?? '0';
  digits[at] = digits[at + 1] ?? '0';
  digits[at + 1] = left;
  return Number(digits.join(''));
}

function entryDay(rng: Prng, rule: DayRule, startDay: number, endDay: number): number {
  const day = rng.int(startDay, endDay);
  let ruled = day;
  if (rule === 'monthStart') ruled = firstOfMonth(day);
  else if (rule === 'midMonth') ruled = firstOfMonth(day) + 14;
  else if (rule === 'monthEnd') ruled = lastOfMonth(day);
  else if (rule === 'payday') ruled = rng.chance(0.5) ? firstOfMonth(day) + 14 : lastOfMonth(day);
  return Math.min(endDay, Math.max(startDay, ruled));
}

function toLines(amounts: readonly LineAmount[]): JournalLine[] {
  return amounts.map(({ accountId, side, cents }) => ({
    account_id: new Int32(accountId),
    debit: moneyFromCents(side === 'debit' ? cents : 0),
    credit: moneyFromCents(side === 'credit' ? cents : 0),
  }));
}
