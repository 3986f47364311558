import { describe, expect, it } from 'vitest';
import { SseParser } from '../../contract/sse-parser.ts';

describe('SSE parser', () => {
  it('parses messages split at any byte, with ids and multi-line data', () => {
    const text = ': hello\n\nid: 7\ndata: {"a":1}\n\nid: 8\nevent: x\ndata: line1\ndata: line2\r\n\r\n';
    for (let cut = 0; cut < text.length; cut++) {
      const p = new SseParser();
      const msgs = [...p.feed(text.slice(0, cut)), ...p.feed(text.slice(cut))];
      expect(msgs).toEqual([
        { id: '7', event: 'message', data: '{"a":1}' },
        { id: '8', event: 'x', data: 'line1\nline2' },
      ]);
      expect(p.lastEventId).toBe('8');
    }
  });

  it('ignores comments and empty dispatches, keeps the last id', () => {
    const p = new SseParser();
    expect(p.feed(':keepalive\n\n\n')).toEqual([]);
    expect(p.feed('id: 3\n\n')).toEqual([]);
    expect(p.lastEventId).toBe('3');
    expect(p.feed('data:x\n\n')).toEqual([{ id: '3', event: 'message', data: 'x' }]);
  });
});
