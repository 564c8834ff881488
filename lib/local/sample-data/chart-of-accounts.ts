export type AccountType = 'Asset' | 'Liability' | 'Equity' | 'Revenue' | 'Expense';

export interface AccountSeed {
  readonly accountId: number;
  readonly name: string;
  readonly type: AccountType;
  readonly active: boolean;
}

/** A small company's chart, numbered by type range: 1xxx assets … 5xxx-7xxx expenses. */
const CHART: readonly AccountSeed[] = Object.freeze([
  account(1000, 'Cash', 'Asset'),
  account(1010, 'Petty Cash', 'Asset'),
  account(1020, 'Old Operating Account', 'Asset', false),
  account(1050, 'Savings Account', 'Asset'),
  account(1100, 'Accounts Receivable', 'Asset'),
  account(1150, 'Allowance for Doubtful Accounts', 'Asset'),
  account(1200, 'Inventory', 'Asset'),
  account(1300, 'Prepaid Expenses', 'Asset'),
  account(1310, 'Prepaid Insurance', 'Asset'),
  account(1400, 'Short-term Investments', 'Asset', false),
  account(1500, 'Equipment', 'Asset'),
  account(1510, 'Accumulated Depreciation - Equipment', 'Asset'),
  account(1550, 'Furniture and Fixtures', 'Asset'),
  account(1560, 'Accumulated Depreciation - Furniture', 'Asset'),
  account(1600, 'Vehicles', 'Asset'),
  account(1610, 'Accumulated Depreciation - Vehicles', 'Asset'),
  account(1900, 'Security Deposits', 'Asset'),
  account(2000, 'Accounts Payable', 'Liability'),
  account(2100, 'Accrued Liabilities', 'Liability'),
  account(2200, 'Sales Tax Payable', 'Liability'),
  account(2300, 'Payroll Liabilities', 'Liability'),
  account(2310, 'Employee Benefits Payable', 'Liability'),
  account(2400, 'Unearned Revenue', 'Liability'),
  account(2450, 'Credit Card Payable', 'Liability'),
  account(2500, 'Notes Payable', 'Liability'),
  account(2600, 'Long-term Debt', 'Liability'),
  account(2700, 'Income Taxes Payable', 'Liability'),
  account(3000, 'Common Stock', 'Equity'),
  account(3100, 'Retained Earnings', 'Equity'),
  account(3200, 'Dividends', 'Equity'),
  account(3300, 'Additional Paid-in Capital', 'Equity'),
  account(4000, 'Sales Revenue', 'Revenue'),
  account(4100, 'Service Revenue', 'Revenue'),
  account(4200, 'Sales Returns and Allowances', 'Revenue'),
  account(4300, 'Sales Discounts', 'Revenue'),
  account(4500, 'Interest Income', 'Revenue'),
  account(4600, 'Other Income', 'Revenue'),
  account(5000, 'Cost of Goods Sold', 'Expense'),
  account(5100, 'Freight In', 'Expense'),
  account(6000, 'Salaries Expense', 'Expense'),
  account(6010, 'Payroll Tax Expense', 'Expense'),
  account(6020, 'Employee Benefits Expense', 'Expense'),
  account(6100, 'Rent Expense', 'Expense'),
  account(6200, 'Utilities Expense', 'Expense'),
  account(6250, 'Telephone Expense', 'Expense', false),
  account(6300, 'Office Supplies Expense', 'Expense'),
  account(6400, 'Advertising Expense', 'Expense'),
  account(6500, 'Depreciation Expense', 'Expense'),
  account(6600, 'Insurance Expense', 'Expense'),
  account(6700, 'Professional Fees', 'Expense'),
  account(6800, 'Travel Expense', 'Expense'),
  account(6850, 'Meals and Entertainment', 'Expense'),
  account(6900, 'Software Subscriptions', 'Expense'),
  account(6950, 'Bank Fees', 'Expense'),
  account(7000, 'Repairs and Maintenance', 'Expense'),
  account(7100, 'Interest Expense', 'Expense'),
  account(7200, 'Bad Debt Expense', 'Expense'),
  account(7500, 'Income Tax Expense', 'Expense'),
]);

function account(accountId: number, name: string, type: AccountType, active = true): AccountSeed {
  return Object.freeze({ accountId, name, type, active });
}

/** The chart the generators use; plain data, the same for every seed. */
export function chartOfAccounts(): readonly AccountSeed[] {
  return CHART;
}
