import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { linkify } from '../../../src/web/mailbox/linkify.ts';

const BASE = 'http://localhost:3000';

describe('linkify', () => {
  it('links Relay’s own URLs and leaves the surrounding text and punctuation as text', () => {
    assert.deepEqual(linkify(`Acknowledge: ${BASE}/ack/a.b-c_d.\nPortal (${BASE}/referrals/1).`, BASE), [
      { text: 'Acknowledge: ' },
      { text: `${BASE}/ack/a.b-c_d`, href: `${BASE}/ack/a.b-c_d` },
      { text: '.\nPortal (' },
      { text: `${BASE}/referrals/1`, href: `${BASE}/referrals/1` },
      { text: ').' },
    ]);
  });

  it('leaves other sites, lookalike hosts and other schemes as text', () => {
    for (const url of [
      'http://localhost:30000/ack/x',
      'http://localhost:3000.evil.example/ack/x',
      'https://localhost:3000/ack/x',
      'https://example.org/',
      'javascript:alert(1)',
    ]) {
      assert.deepEqual(linkify(`see ${url}`, BASE), [{ text: `see ${url}` }], url);
    }
  });

  it('links the base URL itself and keeps text without links whole', () => {
    assert.deepEqual(linkify(BASE, BASE), [{ text: BASE, href: BASE }]);
    assert.deepEqual(linkify('', BASE), []);
    assert.deepEqual(linkify('no links <here>', BASE), [{ text: 'no links <here>' }]);
  });
});
