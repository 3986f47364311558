/**
 * Webhook URLs (server/hooks/hook-url.ts, docs/hooks.md "Webhook URLs are write-only"): the display form masks
 * every part that could be a credential and keeps what tells an operator where the hook points; the request form
 * moves userinfo into `Authorization: Basic`; `urlSecrets` lists what to cut out of error text, and a failed
 * delivery's reason never quotes them.
 */
import { describe, it, expect } from 'vitest';
import { displayUrl, isWebhookUrl, requestOf, urlSecrets } from '../../server/hooks/hook-url.ts';
import { postWebhook } from '../../server/hooks/hook-deliver.ts';

describe('displayUrl', () => {
  it.each([
    ['https://hooks.slack.com/services/T000/B000/XXXX', 'https://hooks.slack.com/services/…'],
    ['https://user:pass@ci.example:8443/hook?token=abc', 'https://…@ci.example:8443/hook?…'],
    ['https://discord.com/api/webhooks/123/AbCdEf', 'https://discord.com/api/…'],
    ['https://x.webhook.office.com/webhookb2/abc@def/IncomingWebhook/1/2', 'https://x.webhook.office.com/webhookb2/…'],
    ['https://hc-ping.com/0c1c6d2e-5b2a-4f7e-9d11-3a8b2c4d5e6f', 'https://hc-ping.com/…'],
    ['https://ci.example/AbCdEfGh', 'https://ci.example/…'],
    ['https://ci.example/services/', 'https://ci.example/services/'],
    ['https://ci.example', 'https://ci.example/'],
    ['http://127.0.0.1:8080/hook', 'http://127.0.0.1:8080/hook'],
    ['http://[::1]:8080/v1/x#frag', 'http://[::1]:8080/v1/…#…'],
    ['HTTPS://CI.Example:443/Hook', 'https://ci.example/…'],
    ['https://:tok@ci.example/', 'https://…@ci.example/'],
    ['https://', 'https://…'],
  ])('%s -> %s', (url, shown) => {
    expect(displayUrl(url)).toBe(shown);
  });
});

describe('requestOf', () => {
  it('moves percent-decoded userinfo into a Basic authorization (RFC 7617) and leaves other URLs alone', () => {
    expect(requestOf('https://us%40er:p%3Ass@ci.example/a?b=c')).toEqual({
      url: 'https://ci.example/a?b=c',
      authorization: `Basic ${Buffer.from('us@er:p:ss').toString('base64')}`,
    });
    expect(requestOf('https://ci.example/a')).toEqual({ url: 'https://ci.example/a', authorization: null });
  });
});

describe('urlSecrets', () => {
  it('lists the masked parts, longest first, and not what the display form shows', () => {
    const s = urlSecrets('https://u:pw@ci.example/services/T0/tok?token=q#f');
    expect(s).toEqual(expect.arrayContaining(['u', 'pw', '/T0/tok', 'token=q', 'f', 'https://u:pw@ci.example/services/T0/tok?token=q#f']));
    expect(s).not.toContain('ci.example');
    expect(s).not.toContain('/services');
    expect([...s].sort((a, b) => b.length - a.length)).toEqual(s);
    expect(urlSecrets('https://hc-ping.com/0c1c6d2e')).toContain('0c1c6d2e');
  });
});

describe('isWebhookUrl', () => {
  it('takes absolute http and https URLs only', () => {
    expect(['http://a/', 'https://a:1/x'].map(isWebhookUrl)).toEqual([true, true]);
    expect(['https://', 'ftp://a/', 'http//a', 'https://a b/'].map(isWebhookUrl)).toEqual([false, false, false, false]);
  });
});

describe('postWebhook', () => {
  it("never quotes the URL's secret parts in the reason it failed", async () => {
    // Port 99999 does not parse: fetch's own error quotes the whole URL.
    const why = await postWebhook('http://127.0.0.1:99999/services/T0/PathTok3n9?token=QueryTok3n7', null, '{}', 0, 'd1', 2000);
    expect(why).toMatch(/^cannot reach /);
    expect(why).not.toContain('PathTok3n9');
    expect(why).not.toContain('QueryTok3n7');
  });
});
