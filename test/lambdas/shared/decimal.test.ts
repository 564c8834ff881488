import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Decimal128 } from 'mongodb';
import { decimal128ToUnscaled, toUnscaled } from '../../../lambdas/shared/decimal.ts';

const ok = (text: string) => {
  const result = toUnscaled(text, 18, 4);
  assert.ok(result.ok, `expected ${text} to convert`);
  return result.unscaled;
};
const reason = (text: string, precision = 18, scale = 4) => {
  const result = toUnscaled(text, precision, scale);
  assert.ok(!result.ok, `expected ${text} to be refused`);
  return result.reason;
};

describe('exact decimal conversion', () => {
  it('scales decimal text exactly', () => {
    assert.equal(ok('500.00'), 5_000_000n);
    assert.equal(ok('-0.0001'), -1n);
    assert.equal(ok('0'), 0n);
    assert.equal(ok('12345678901234.5678'), 123_456_789_012_345_678n);
  });

  it('reads exponent forms that Decimal128 and doubles print', () => {
    assert.equal(ok('5.00E+2'), 5_000_000n);
    assert.equal(ok('1E-4'), 1n);
    assert.equal(ok('1.5e3'), 15_000_000n);
  });

  it('accepts trailing zeros beyond the scale but never rounds', () => {
    assert.equal(ok('1.230000'), 12_300n);
    assert.equal(reason('0.00001'), 'more than 4 decimal places (0.00001)');
    assert.equal(reason('1.23456'), 'more than 4 decimal places (1.23456)');
  });

  it('refuses values too large for the precision', () => {
    assert.equal(reason('100000000000000'), 'too large for decimal(18, 4) (100000000000000)');
    assert.equal(ok('99999999999999.9999'), 999_999_999_999_999_999n);
  });

  it('refuses text that is not a finite number', () => {
    assert.equal(reason('NaN'), 'not a finite decimal number (NaN)');
    assert.equal(reason('Infinity'), 'not a finite decimal number (Infinity)');
    assert.equal(reason('1,5'), 'not a finite decimal number (1,5)');
  });

  it('reads Decimal128 bytes exactly as it reads their text', () => {
    const samples = [
      '500.00',
      '0',
      '-0.0001',
      '-12345678901234.5678',
      '1E+3',
      '5.00E+2',
      '0.00001',
      '1.23456',
      '100000000000000',
      'NaN',
      'Infinity',
      '-Infinity',
      '99999999999999.9999',
      '1E-6176',
      '9.999999999999999999999999999999999E+6144',
    ];
    for (const text of samples) {
      const decimal = Decimal128.fromString(text);
      assert.deepEqual(
        decimal128ToUnscaled(decimal.bytes, 18, 4, () => decimal.toString()),
        toUnscaled(decimal.toString(), 18, 4),
        text,
      );
    }
  });
});
