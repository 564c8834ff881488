import { Int32, type ObjectId } from 'mongodb';
import { type AccountType, chartOfAccounts } from './chart-of-accounts.ts';
import { seededClock } from './document-clock.ts';
import { resolveSampleDataOptions, type SampleDataOptions } from './options.ts';
import { Prng } from './prng.ts';

export type AccountDocument = {
  _id: ObjectId;
  account_id: Int32;
  account_name: string;
  account_type: AccountType;
  is_active: boolean;
  updatedAt: Date;
};

/** Shortly before the brief's first journal entry id (2025-09-17T11:26:02Z): the chart exists first. */
const ACCOUNTS_START_MS = Date.UTC(2025, 8, 17, 11, 20, 0);
const ACCOUNTS_STREAM = 1;

/** One document per account of `chartOfAccounts()`, in account number order. */
export function generateAccounts(options: SampleDataOptions = {}): Generator<AccountDocument> {
  const { seed } = resolveSampleDataOptions(options);
  return accounts(new Prng(seed, ACCOUNTS_STREAM));
}

function* accounts(rng: Prng): Generator<AccountDocument> {
  const clock = seededClock(rng, ACCOUNTS_START_MS);
  for (const account of chartOfAccounts()) {
    const { _id, updatedAt } = clock.next();
    yield {
      _id,
      account_id: new Int32(account.accountId),
      account_name: account.name,
      account_type: account.type,
      is_active: account.active,
      updatedAt,
    };
  }
}
