/**
 * One event's size is bounded (server/events/event-clamp.ts): rack text out of all proportion is cut, the shape kept;
 * the appliance's own events go through untouched, and EventLog.emit applies the bound to what it stores and streams.
 */
import { describe, expect, it } from 'vitest';
import type { CcEvent } from '../../contract/index.ts';
import { CLAMP_STEPS, clampEvent, clampText, EVENT_LINE_MAX } from '../../server/events/event-clamp.ts';
import { EventLog } from '../../server/events/event-log.ts';

const tftpError = (name: string, options: Record<string, string> = {}): CcEvent =>
  ({
    seq: 1,
    ts: '2026-12-07T10:00:00.000Z',
    type: 'tftp.error',
    node_id: null,
    mac: null,
    message: `TFTP ${name}: refused`,
    data: { file: name, served: name, client: '10.0.0.9', reason: 'refused', bytes: 0, options },
  }) as unknown as CcEvent;

describe('clampText', () => {
  it('writes control characters, DEL and lone surrogates as ?, keeps pairs and other text, notes what it cut', () => {
    expect(clampText('a\x01b\x1fc\x7fd', 100)).toBe('a?b?c?d');
    expect(clampText('x\ud800y\udc00z', 100)).toBe('x?y?z');
    expect(clampText('ok \u{1f600} é', 100)).toBe('ok \u{1f600} é');
    expect(clampText('abcdefghij', 4)).toBe('abcd…(+6 chars)');
    expect(clampText('abcd', 4)).toBe('abcd');
  });
});

describe('clampEvent', () => {
  it('cuts a 65,000-character name of control bytes to a line within EVENT_LINE_MAX, same keys and types', () => {
    const name = '\x01'.repeat(65_000);
    const ev = tftpError(name);
    expect(JSON.stringify(ev).length).toBeGreaterThan(1_000_000); // what emit stored before
    const { ev: out, line } = clampEvent(ev);
    expect(line.length).toBeLessThanOrEqual(EVENT_LINE_MAX);
    expect(JSON.parse(line)).toEqual(out);
    expect(Object.keys(out.data)).toEqual(Object.keys(ev.data));
    const data = out.data as unknown as Record<string, unknown>;
    expect(data.bytes).toBe(0);
    expect(data.client).toBe('10.0.0.9');
    expect(data.file).toMatch(/^\?+…\(\+\d+ chars\)$/);
    expect(out.message.startsWith('TFTP ???')).toBe(true);
    expect({ ...out, message: '', data: {} }).toEqual({ ...ev, message: '', data: {} });
  });

  it('keeps the first entries of a record of junk options, as many as fit, and cuts their keys', () => {
    const options: Record<string, string> = {};
    for (let i = 0; i < 2000; i++) options[`opt${i}${'k'.repeat(300)}`] = 'v'.repeat(300);
    const { ev: out, line } = clampEvent(tftpError('pxelinux.0', options));
    expect(line.length).toBeLessThanOrEqual(EVENT_LINE_MAX);
    const kept = Object.keys((out.data as unknown as { options: Record<string, string> }).options);
    const last = CLAMP_STEPS[CLAMP_STEPS.length - 1]!;
    expect(kept).toHaveLength(last.entries); // 32 entries of 256 characters, then 16 of 64, did not fit
    expect(kept[0]).toBe(`opt0${'k'.repeat(last.text - 4)}…(+${304 - last.text} chars)`);
  });
});

describe('EventLog.emit', () => {
  it('stores and streams the cut event; an ordinary event is stored as it was given', async () => {
    const log = EventLog.scratch(100);
    const streamed: CcEvent[] = [];
    log.subscribe((e) => streamed.push(e));
    const name = '\x01'.repeat(65_000);
    const big = tftpError(name);
    log.emit('tftp.error', { message: big.message, data: big.data as never });
    log.emit('tftp.error', { message: 'TFTP a.efi: refused', data: tftpError('a.efi').data as never });
    const [ordinary, cut] = await log.query({});
    expect(JSON.stringify(cut).length).toBeLessThanOrEqual(EVENT_LINE_MAX);
    expect(streamed[0]).toEqual(cut);
    expect((cut!.data as unknown as { file: string }).file).toMatch(/^\?{256}…\(\+64744 chars\)$/);
    expect(ordinary!.data).toEqual(tftpError('a.efi').data);
    expect(ordinary!.message).toBe('TFTP a.efi: refused');
    await log.close();
  });
});
