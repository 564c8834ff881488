import { ObjectId } from 'mongodb';
import { dayNumber, firstOfMonth, utcMidnight } from './bson-values.ts';
import { seededClock } from './document-clock.ts';
import {
  type ResolvedSampleDataOptions,
  resolveSampleDataOptions,
  type SampleDataOptions,
} from './options.ts';
import { Prng } from './prng.ts';

export type CloseTaskStatus = 'Not Started' | 'In Progress' | 'Complete' | 'Blocked';

export type CloseTaskDocument = {
  _id: ObjectId;
  task_id: string;
  name: string;
  assigned_to: string;
  status: CloseTaskStatus;
  due_date: Date;
  updatedAt: Date;
};

interface ChecklistItem {
  readonly name: string;
  readonly owner: string;
  /** Day of the month after the closed period on which the task is due. */
  readonly dueDay: number;
}

/**
 * A month-end close checklist, repeated for each month of the entries'
 * range. The brief's T1 and T2 (the May 2025 close) take the first two
 * slots of the first month.
 */
const CHECKLIST: readonly ChecklistItem[] = [
  { name: 'Reconcile Cash', owner: 'Alice', dueDay: 5 },
  { name: 'Review AP', owner: 'Bob', dueDay: 6 },
  { name: 'Review AR Aging', owner: 'Carol', dueDay: 6 },
  { name: 'Reconcile Credit Cards', owner: 'Alice', dueDay: 7 },
  { name: 'Record Accrued Expenses', owner: 'David', dueDay: 7 },
  { name: 'Record Depreciation', owner: 'David', dueDay: 8 },
  { name: 'Reconcile Inventory', owner: 'Erin', dueDay: 8 },
  { name: 'Reconcile Payroll', owner: 'Bob', dueDay: 9 },
  { name: 'Review Prepaid Expenses', owner: 'Carol', dueDay: 9 },
  { name: 'Recognize Deferred Revenue', owner: 'Erin', dueDay: 10 },
  { name: 'Prepare Trial Balance', owner: 'Frank', dueDay: 12 },
  { name: 'Review Financial Statements', owner: 'Frank', dueDay: 14 },
];
const TEAM = ['Alice', 'Bob', 'Carol', 'David', 'Erin', 'Frank'];
const STATUSES: readonly { readonly status: CloseTaskStatus; readonly weight: number }[] = [
  { status: 'Complete', weight: 50 },
  { status: 'In Progress', weight: 20 },
  { status: 'Not Started', weight: 22 },
  { status: 'Blocked', weight: 8 },
];
const STATUS_WEIGHT = STATUSES.reduce((sum, s) => sum + s.weight, 0);

/** The brief's sample rows, T1 and T2. */
const BRIEF_TASKS = [
  {
    id: '68ca9b35193e5d257e046f25',
    name: 'Reconcile Cash',
    owner: 'Alice',
    status: 'Complete',
    due: '2025-06-05',
  },
  {
    id: '68ca9b35193e5d257e046f26',
    name: 'Review AP',
    owner: 'Bob',
    status: 'In Progress',
    due: '2025-06-06',
  },
] as const;
/** Generated ids start one second after the brief's (2025-09-17T11:27:49Z). */
const TASKS_START_MS = (0x68ca9b35 + 1) * 1000;
const TASKS_STREAM = 3;
/** Closes at least this many months before the last month of the data are (almost all) complete. */
const SETTLED_MONTHS = 2;
/** Months of closes before the calendar starts again: keeps due dates valid Dates at any count. */
const MAX_CLOSE_CYCLES = 12 * 10_000;

/** Close tasks T1, T2, …: the checklist for the first month of the entries, then the next, and so on. */
export function generateCloseTasks(options: SampleDataOptions = {}): Generator<CloseTaskDocument> {
  return closeTasks(resolveSampleDataOptions(options));
}

function* closeTasks(options: ResolvedSampleDataOptions): Generator<CloseTaskDocument> {
  const rng = new Prng(options.seed, TASKS_STREAM);
  const clock = seededClock(rng, TASKS_START_MS);
  for (let n = 0; n < options.closeTasks; n++) {
    const taskId = `T${n + 1}`;
    const brief = BRIEF_TASKS[n];
    if (brief !== undefined) {
      yield {
        _id: new ObjectId(brief.id),
        task_id: taskId,
        name: brief.name,
        assigned_to: brief.owner,
        status: brief.status,
        due_date: utcMidnight(dayNumber(brief.due)),
        updatedAt: clock.nextUpdatedAt(),
      };
      continue;
    }
    const { _id, updatedAt } = clock.next();
    const item = CHECKLIST[n % CHECKLIST.length] ?? CHECKLIST[0];
    if (item === undefined) throw new Error('the close checklist is empty');
    const cycle = Math.floor(n / CHECKLIST.length) % MAX_CLOSE_CYCLES;
    const closedMonth = firstOfMonth(options.startDay, cycle);
    const settled = closedMonth < firstOfMonth(options.endDay, -SETTLED_MONTHS + 1);
    const owner = rng.chance(0.85) ? item.owner : rng.pick(TEAM);
    const status = settled && rng.chance(0.97) ? 'Complete' : rng.weighted(STATUSES, STATUS_WEIGHT).status;
    yield {
      _id,
      task_id: taskId,
      name: item.name,
      assigned_to: owner,
      status,
      due_date: utcMidnight(firstOfMonth(closedMonth, 1) + item.dueDay - 1),
      updatedAt,
    };
  }
}
