/** The pure parts of server/http/body-budget.ts: what a request is charged, and the budget in all and per source. */
import { describe, it, expect } from 'vitest';
import { bodyCharge, BodyBudget, ByteBudget } from '../../server/http/body-budget.ts';

describe('bodyCharge', () => {
  it('charges the declared length, at most the largest; undeclared or odd lengths as the largest', () => {
    expect(bodyCharge('1000', 2048)).toBe(1000);
    expect(bodyCharge('0', 2048)).toBe(0);
    expect(bodyCharge('99999999999999999999', 2048)).toBe(2048);
    for (const odd of [undefined, '', '-1', '1e3', ' 12', '0x10', '12, 13']) expect(bodyCharge(odd, 2048)).toBe(2048);
  });
});

describe('ByteBudget', () => {
  it('takes up to its max, refuses past it without taking, and gets bytes back', () => {
    const b = new ByteBudget(10);
    expect(b.take(6)).toBe(true);
    expect(b.take(5)).toBe(false);
    expect(b.inUse()).toBe(6);
    expect(b.take(4)).toBe(true);
    b.release(6);
    expect(b.inUse()).toBe(4);
    b.release(100);
    expect(b.inUse()).toBe(0);
  });
});

describe('BodyBudget', () => {
  it('gives a source at most its share, and all sources at most the budget', () => {
    const b = new BodyBudget(100, 1 / 4);
    expect(b.take('a', 25)).toBe(true);
    expect(b.take('a', 1)).toBe(false);
    expect(b.take('b', 25)).toBe(true);
    expect(b.take('c', 25)).toBe(true);
    expect(b.take('d', 20)).toBe(true);
    // d is within its share but the budget in all has 5 left; what was refused is not kept against d.
    expect(b.take('d', 10)).toBe(false);
    expect(b.take('d', 5)).toBe(true);
    expect(b.all.inUse()).toBe(100);
  });
  it('forgets a source once it holds nothing', () => {
    const b = new BodyBudget(100, 1 / 2);
    b.take('a', 10);
    b.take('a', 20);
    b.release('a', 10);
    expect(b.sources()).toBe(1);
    b.release('a', 20);
    expect(b.sources()).toBe(0);
    expect(b.all.inUse()).toBe(0);
  });
});
