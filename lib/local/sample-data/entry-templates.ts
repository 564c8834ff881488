/** When in the month an entry of this kind is dated. */
export type DayRule = 'any' | 'monthStart' | 'midMonth' | 'monthEnd' | 'payday';

/** One line of a template: one of `accounts`, taking a weight from `share` of its side's total. */
export interface Leg {
  readonly accounts: readonly number[];
  /** Integer weight range; a side's total is split in proportion to the drawn weights. */
  readonly share: readonly [number, number];
  /** Probability that the line is present at all. */
  readonly chance: number;
}

export interface EntryTemplate {
  readonly description: string;
  /** Relative frequency among all templates. */
  readonly weight: number;
  readonly day: DayRule;
  /** Entry total in whole currency units, inclusive. */
  readonly amount: readonly [number, number];
  /**
   * Skew toward small totals: total = min + (max - min) × u^skew, u uniform in [0, 1).
   * An integer power is exact arithmetic, unlike a log-normal draw.
   */
  readonly skew: number;
  /** Totals are rounded to a multiple of this many cents (rent, dividends). @default 1 */
  readonly roundToCents?: number;
  readonly debits: readonly Leg[];
  readonly credits: readonly Leg[];
}

function leg(
  accounts: number | readonly number[],
  share: readonly [number, number] = [1, 1],
  chance = 1,
): Leg {
  return { accounts: typeof accounts === 'number' ? [accounts] : accounts, share, chance };
}

const BILLED_EXPENSES = [6300, 6400, 6700, 6800, 6900, 7000, 6200];
const CARD_EXPENSES = [6800, 6850, 6300, 6900, 6400];
const ACCRUED_EXPENSES = [6200, 6700, 7100, 6000];
const FIXED_ASSETS = [1500, 1550, 1600];

/** Up to `chances.length` lines drawn from `accounts`, each later line less likely. */
function several(accounts: readonly number[], chances: readonly number[]): Leg[] {
  return chances.map((chance) => leg(accounts, [1, 4], chance));
}

/**
 * The kinds of entry a small trading company posts, with double-entry
 * accounts that make sense for each. Every template yields 2 to 6 lines.
 */
export const ENTRY_TEMPLATES: readonly EntryTemplate[] = [
  {
    description: 'Customer invoice',
    weight: 16,
    day: 'any',
    amount: [100, 100_000],
    skew: 3,
    debits: [leg(1100)],
    credits: [leg([4000, 4100], [60, 100]), leg([4100, 4000], [20, 60], 0.3), leg(2200, [6, 9], 0.6)],
  },
  {
    description: 'Vendor payment',
    weight: 14,
    day: 'any',
    amount: [50, 60_000],
    skew: 3,
    debits: [leg(2000)],
    credits: [leg(1000)],
  },
  {
    description: 'Customer payment',
    weight: 15,
    day: 'any',
    amount: [100, 100_000],
    skew: 3,
    debits: [leg(1000, [97, 100]), leg(4300, [1, 3], 0.15)],
    credits: [leg(1100)],
  },
  {
    description: 'Vendor bill',
    weight: 10,
    day: 'any',
    amount: [50, 20_000],
    skew: 3,
    debits: several(BILLED_EXPENSES, [1, 0.5, 0.3, 0.15]),
    credits: [leg(2000)],
  },
  {
    description: 'Inventory purchase',
    weight: 8,
    day: 'any',
    amount: [500, 80_000],
    skew: 3,
    debits: [leg(1200, [90, 97]), leg(5100, [3, 10], 0.3)],
    credits: [leg(2000)],
  },
  {
    description: 'Cost of goods sold',
    weight: 12,
    day: 'any',
    amount: [200, 50_000],
    skew: 3,
    debits: [leg(5000)],
    credits: [leg(1200)],
  },
  {
    description: 'Cash sale',
    weight: 6,
    day: 'any',
    amount: [5, 2_500],
    skew: 2,
    debits: [leg(1000)],
    credits: [leg(4000, [92, 92]), leg(2200, [8, 8], 0.8)],
  },
  {
    description: 'Credit card expenses',
    weight: 5,
    day: 'any',
    amount: [20, 8_000],
    skew: 3,
    debits: several(CARD_EXPENSES, [1, 0.6, 0.3, 0.15, 0.1]),
    credits: [leg(2450)],
  },
  {
    description: 'Payroll',
    weight: 4,
    day: 'payday',
    amount: [8_000, 30_000],
    skew: 1,
    debits: [leg(6000, [78, 82]), leg(6010, [6, 8]), leg(6020, [8, 14], 0.7)],
    credits: [leg(1000, [70, 75]), leg(2300, [15, 20]), leg(2310, [5, 10], 0.5)],
  },
  {
    description: 'Utilities',
    weight: 4,
    day: 'any',
    amount: [80, 3_000],
    skew: 2,
    debits: [leg(6200)],
    credits: [leg([2000, 1000])],
  },
  {
    description: 'Accrued expenses',
    weight: 3,
    day: 'monthEnd',
    amount: [500, 25_000],
    skew: 2,
    debits: several(ACCRUED_EXPENSES, [1, 0.4, 0.2]),
    credits: [leg(2100)],
  },
  {
    description: 'Bank fees',
    weight: 3,
    day: 'monthEnd',
    amount: [5, 250],
    skew: 2,
    debits: [leg(6950)],
    credits: [leg(1000)],
  },
  {
    description: 'Rent',
    weight: 2,
    day: 'monthStart',
    amount: [3_000, 15_000],
    skew: 1,
    roundToCents: 10_000,
    debits: [leg(6100)],
    credits: [leg(1000)],
  },
  {
    description: 'Depreciation',
    weight: 2,
    day: 'monthEnd',
    amount: [500, 12_000],
    skew: 1,
    debits: [leg(6500)],
    credits: [leg(1510, [50, 70]), leg(1560, [10, 20], 0.6), leg(1610, [20, 30], 0.5)],
  },
  {
    description: 'Loan payment',
    weight: 1,
    day: 'monthStart',
    amount: [500, 4_000],
    skew: 1,
    debits: [leg(2500, [80, 90]), leg(7100, [10, 20])],
    credits: [leg(1000)],
  },
  {
    description: 'Credit card payment',
    weight: 2,
    day: 'any',
    amount: [500, 15_000],
    skew: 2,
    debits: [leg(2450)],
    credits: [leg(1000)],
  },
  {
    description: 'Sales return',
    weight: 2,
    day: 'any',
    amount: [20, 5_000],
    skew: 3,
    debits: [leg(4200, [92, 92]), leg(2200, [8, 8], 0.6)],
    credits: [leg(1100)],
  },
  {
    description: 'Sales tax remittance',
    weight: 1,
    day: 'midMonth',
    amount: [500, 20_000],
    skew: 2,
    debits: [leg(2200)],
    credits: [leg(1000)],
  },
  {
    description: 'Payroll tax remittance',
    weight: 1,
    day: 'midMonth',
    amount: [1_000, 6_000],
    skew: 1,
    debits: [leg(2300, [60, 80]), leg(2310, [20, 40], 0.5)],
    credits: [leg(1000)],
  },
  {
    description: 'Customer prepayment',
    weight: 1,
    day: 'any',
    amount: [500, 30_000],
    skew: 2,
    debits: [leg(1000)],
    credits: [leg(2400)],
  },
  {
    description: 'Deferred revenue recognition',
    weight: 1,
    day: 'monthEnd',
    amount: [200, 15_000],
    skew: 2,
    debits: [leg(2400)],
    credits: [leg(4100)],
  },
  {
    description: 'Prepaid insurance',
    weight: 1,
    day: 'monthStart',
    amount: [1_200, 6_000],
    skew: 1,
    roundToCents: 10_000,
    debits: [leg(1310)],
    credits: [leg(1000)],
  },
  {
    description: 'Insurance expense',
    weight: 1,
    day: 'monthEnd',
    amount: [100, 3_000],
    skew: 1,
    debits: [leg(6600)],
    credits: [leg(1310)],
  },
  {
    description: 'Transfer to savings',
    weight: 1,
    day: 'any',
    amount: [1_000, 20_000],
    skew: 2,
    roundToCents: 100_000,
    debits: [leg(1050)],
    credits: [leg(1000)],
  },
  {
    description: 'Interest income',
    weight: 1,
    day: 'monthEnd',
    amount: [5, 1_500],
    skew: 2,
    debits: [leg(1050)],
    credits: [leg(4500)],
  },
  {
    description: 'Petty cash replenishment',
    weight: 1,
    day: 'any',
    amount: [50, 500],
    skew: 1,
    debits: [leg(1010)],
    credits: [leg(1000)],
  },
  {
    description: 'Equipment purchase',
    weight: 1,
    day: 'any',
    amount: [1_000, 60_000],
    skew: 3,
    debits: [leg(FIXED_ASSETS)],
    credits: [leg(1000, [20, 100]), leg(2500, [20, 80], 0.4)],
  },
  {
    description: 'Bad debt provision',
    weight: 0.5,
    day: 'monthEnd',
    amount: [200, 10_000],
    skew: 2,
    debits: [leg(7200)],
    credits: [leg(1150)],
  },
  {
    description: 'Bad debt write-off',
    weight: 0.5,
    day: 'any',
    amount: [100, 8_000],
    skew: 2,
    debits: [leg(1150)],
    credits: [leg(1100)],
  },
  {
    description: 'Income tax accrual',
    weight: 0.5,
    day: 'monthEnd',
    amount: [1_000, 30_000],
    skew: 1,
    debits: [leg(7500)],
    credits: [leg(2700)],
  },
  {
    description: 'Dividend payment',
    weight: 0.3,
    day: 'any',
    amount: [5_000, 100_000],
    skew: 1,
    roundToCents: 100_000,
    debits: [leg(3200)],
    credits: [leg(1000)],
  },
];

export const TOTAL_TEMPLATE_WEIGHT = ENTRY_TEMPLATES.reduce((sum, template) => sum + template.weight, 0);
