import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { deliveryIdFromBounceAddress, parseDsn, type Dsn } from '../../src/delivery/bounce/dsn.parser.ts';

/** The delivery id every fixture was "sent" with; the listener test swaps in a real one. */
const FIXTURE_DELIVERY_ID = '3b9f6c2e-8d41-4e7a-9c55-1f2a7d0e4b63';
const FIXTURE_BOUNCE_DOMAIN = 'bounce.relay.test';
const ENVELOPE = `bounce+${FIXTURE_DELIVERY_ID}@${FIXTURE_BOUNCE_DOMAIN}`;
const OTHER_ID = '0c7e1b2a-9f3d-4e5c-8a6b-7d2e1f0a9c84';

function fixture(name: string): string {
  return readFileSync(new URL(`fixtures/${name}.eml`, import.meta.url), 'utf8');
}

const parse = async (raw: string, options = {}) =>
  parseDsn(await simpleParser(raw, { keepDeliveryStatus: true }), {
    bounceDomain: FIXTURE_BOUNCE_DOMAIN,
    ...options,
  });

const EXPECTED: Record<string, Dsn> = {
  'postfix-user-unknown': {
    deliveryId: FIXTURE_DELIVERY_ID,
    action: 'failed',
    status: '5.1.1',
    diagnostic:
      'smtp; 550 5.1.1 <adults.referrals@example.org>: Recipient address rejected: User unknown in virtual mailbox table',
    remoteMta: 'mx.example.org',
    finalRecipient: 'adults.referrals@example.org',
  },
  'exim-mailbox-full': {
    deliveryId: FIXTURE_DELIVERY_ID,
    action: 'failed',
    status: '5.2.2',
    diagnostic: 'smtp; 552 5.2.2 <children.referrals@example.org>: Mailbox full, quota exceeded',
    remoteMta: 'mail.example.org',
    finalRecipient: 'children.referrals@example.org',
  },
  'exchange-recipient-not-found': {
    deliveryId: FIXTURE_DELIVERY_ID,
    action: 'failed',
    status: '5.1.10',
    diagnostic: 'smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
    finalRecipient: 'adults.referrals@example.org',
  },
  'postfix-delayed': {
    deliveryId: FIXTURE_DELIVERY_ID,
    action: 'delayed',
    status: '4.4.7',
    diagnostic: 'X-Postfix; connect to mx.example.org[192.0.2.25]:25: Connection timed out',
    finalRecipient: 'adults.referrals@example.org',
  },
  'qmail-plain-text': {
    deliveryId: FIXTURE_DELIVERY_ID,
    action: 'failed',
    status: '5.1.1',
    diagnostic: '550 5.1.1 <adults.referrals@example.org>: Recipient address rejected: User unknown',
  },
};

describe('parseDsn: fixtures from real MTAs', () => {
  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`reads ${name}`, async () => {
      assert.deepEqual(await parse(fixture(name), { envelopeRecipient: ENVELOPE }), expected);
    });

    it(`reads ${name} the same from raw text (LF and CRLF), without the envelope and with mailparser's default folding`, async () => {
      const lf = fixture(name);
      const crlf = lf.replace(/\n/g, '\r\n');
      // Without the envelope the id must come from the returned message.
      assert.deepEqual(await parse(lf), expected);
      assert.deepEqual(await parse(crlf), expected);
      assert.deepEqual(parseDsn(lf, { bounceDomain: FIXTURE_BOUNCE_DOMAIN }), expected);
      assert.deepEqual(parseDsn(Buffer.from(crlf), { bounceDomain: FIXTURE_BOUNCE_DOMAIN }), expected);
      // simpleParser without keepDeliveryStatus appends the status part to `text` instead.
      assert.deepEqual(parseDsn(await simpleParser(crlf), { bounceDomain: FIXTURE_BOUNCE_DOMAIN }), expected);
    });
  }
});

describe('parseDsn: which delivery a bounce names', () => {
  it('prefers the envelope recipient over the returned headers', async () => {
    const dsn = await parse(fixture('postfix-user-unknown'), {
      envelopeRecipient: `bounce+${OTHER_ID.toUpperCase()}@Bounce.Relay.Test`,
    });
    assert.equal(dsn.deliveryId, OTHER_ID);
  });

  it('ignores an envelope recipient in another domain and falls back to the returned headers', async () => {
    const dsn = await parse(fixture('postfix-user-unknown'), {
      envelopeRecipient: `bounce+${OTHER_ID}@elsewhere.example`,
    });
    assert.equal(dsn.deliveryId, FIXTURE_DELIVERY_ID);
  });

  it('prefers X-Relay-Delivery over the Message-ID of the returned message', async () => {
    const raw = fixture('postfix-user-unknown').replace(
      `Message-ID: <${FIXTURE_DELIVERY_ID}@`,
      `Message-ID: <${OTHER_ID}@`,
    );
    assert.equal((await parse(raw)).deliveryId, FIXTURE_DELIVERY_ID);
  });

  it('falls back to the original Message-ID when the header was stripped, in the bounce domain only', async () => {
    const raw = fixture('postfix-user-unknown').replace(/^X-Relay-Delivery: .*\n/m, '');
    assert.equal((await parse(raw)).deliveryId, FIXTURE_DELIVERY_ID);
    assert.equal(parseDsn(raw, { bounceDomain: FIXTURE_BOUNCE_DOMAIN }).deliveryId, FIXTURE_DELIVERY_ID);
    assert.equal((await parse(raw, { bounceDomain: 'other.test' })).deliveryId, undefined);
  });

  it('reads the text/rfc822-headers part that Exchange returns', async () => {
    const withoutQuotedReferences = fixture('exchange-recipient-not-found')
      .replace(/^In-Reply-To: .*\n/m, '')
      .replace(/^References: .*\n/m, '');
    assert.equal((await parse(withoutQuotedReferences)).deliveryId, FIXTURE_DELIVERY_ID);
  });

  it('uses In-Reply-To or References of the bounce itself when nothing was returned', async () => {
    const raw = fixture('exchange-recipient-not-found').replace(
      /--8d6c7e2b-4f5a-4c11-9e3a-2b7d1f0c6a55\nContent-Type: text\/rfc822-headers\n[\s\S]*?(?=--8d6c7e2b-4f5a-4c11-9e3a-2b7d1f0c6a55--)/,
      '',
    );
    assert.equal(raw.includes('X-Relay-Delivery'), false);
    assert.equal((await parse(raw)).deliveryId, FIXTURE_DELIVERY_ID);
  });

  it('names no delivery when nothing points at one', async () => {
    const raw = fixture('qmail-plain-text')
      .replace(/^X-Relay-Delivery: .*\n/m, '')
      .replace(/^Message-ID: .*\n/m, '');
    const dsn = await parse(raw);
    assert.equal(dsn.deliveryId, undefined);
    assert.equal(dsn.action, 'failed');
  });

  it('recognises only bounce+<uuid>@domain as a bounce address', () => {
    assert.equal(deliveryIdFromBounceAddress(ENVELOPE, FIXTURE_BOUNCE_DOMAIN), FIXTURE_DELIVERY_ID);
    assert.equal(deliveryIdFromBounceAddress(`<${ENVELOPE}>`), FIXTURE_DELIVERY_ID);
    assert.equal(
      deliveryIdFromBounceAddress(
        `BOUNCE+${FIXTURE_DELIVERY_ID.toUpperCase()}@BOUNCE.RELAY.TEST`,
        'bounce.relay.test',
      ),
      FIXTURE_DELIVERY_ID,
    );
    for (const address of [
      `bounce+${FIXTURE_DELIVERY_ID}@elsewhere.example`,
      `bounce@${FIXTURE_BOUNCE_DOMAIN}`,
      `bounce+not-a-uuid@${FIXTURE_BOUNCE_DOMAIN}`,
      `someone+${FIXTURE_DELIVERY_ID}@${FIXTURE_BOUNCE_DOMAIN}`,
      `bounce+${FIXTURE_DELIVERY_ID}x@${FIXTURE_BOUNCE_DOMAIN}`,
      '',
    ]) {
      assert.equal(deliveryIdFromBounceAddress(address, FIXTURE_BOUNCE_DOMAIN), undefined, address);
    }
  });
});

describe('parseDsn: RFC 3464 details', () => {
  const report = (recipients: string) =>
    [
      'Reporting-MTA: dns; mta.example.net',
      'Arrival-Date: Wed, 25 Nov 2026 11:02:13 +0000',
      '',
      recipients,
      '',
    ].join('\r\n');

  it('picks the failed recipient among several, and unfolds folded fields', () => {
    const dsn = parseDsn(
      report(
        [
          'Final-Recipient: rfc822; one@example.org',
          'Action: delivered',
          'Status: 2.0.0',
          '',
          'Final-Recipient: rfc822;',
          '\ttwo@example.org',
          'ACTION: Failed',
          'Status: 5.0.0 (permanent failure)',
          'Remote-MTA: DNS; mx2.example.org',
          'Diagnostic-Code: smtp;',
          '  550 rejected',
          '\tfor policy reasons',
        ].join('\r\n'),
      ),
    );
    assert.deepEqual(dsn, {
      action: 'failed',
      status: '5.0.0',
      diagnostic: 'smtp; 550 rejected for policy reasons',
      remoteMta: 'mx2.example.org',
      finalRecipient: 'two@example.org',
    });
  });

  it('takes the status from the diagnostic when the Status field is missing or malformed', () => {
    const dsn = parseDsn(
      report(
        [
          'Final-Recipient: rfc822; one@example.org',
          'Action: failed',
          'Status: permanent',
          'Diagnostic-Code: smtp; 554 5.7.1 Message rejected as spam',
        ].join('\n'),
      ),
    );
    assert.equal(dsn.status, '5.7.1');
  });

  it('reports an action it does not know as unknown', () => {
    const dsn = parseDsn(report('Final-Recipient: rfc822; a@example.org\nAction: exploded\nStatus: 5.0.0'));
    assert.equal(dsn.action, 'unknown');
    assert.equal(dsn.status, '5.0.0');
  });

  it('reads a message/global-delivery-status part (RFC 6533) like a message/delivery-status one', async () => {
    const raw = fixture('exim-mailbox-full').replace(
      'Content-type: message/delivery-status',
      'Content-type: message/global-delivery-status',
    );
    assert.deepEqual(await parse(raw), EXPECTED['exim-mailbox-full']);
  });

  it('reads a base64-encoded status part', async () => {
    const original = fixture('exim-mailbox-full');
    const header = 'Content-type: message/delivery-status\n\n';
    const at = original.indexOf(header);
    const end = original.indexOf('\n--1795604535-eximdsn-1804289383', at);
    const status = original.slice(at + header.length, end);
    const encoded = Buffer.from(status).toString('base64').replace(/.{76}/g, '$&\n');
    const raw =
      original.slice(0, at) +
      `Content-type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n${encoded}\n` +
      original.slice(end);
    assert.equal(raw.includes('Action: failed'), false);
    assert.deepEqual(await parse(raw), EXPECTED['exim-mailbox-full']);
  });
});

describe('parseDsn: bounces that are not multipart/report', () => {
  it('reads a 4.x.x status as delayed', () => {
    const dsn = parseDsn(
      'This is a warning. Your message has not yet been delivered.\n\n' +
        'mx.example.org said: 452 4.2.2 Mailbox over quota, will retry\n',
    );
    assert.deepEqual(dsn, {
      action: 'delayed',
      status: '4.2.2',
      diagnostic: '452 4.2.2 Mailbox over quota, will retry',
    });
  });

  it('does not mistake an IP address or a version number for a status', () => {
    const dsn = parseDsn(
      'Delivery to the following recipient failed permanently:\n\n' +
        'Host 10.4.5.1 (version 5.1.12.3) refused the connection.\n',
    );
    assert.deepEqual(dsn, { action: 'unknown' });
  });

  it('ignores status codes inside the quoted original message', () => {
    const dsn = parseDsn(
      'Sorry, your message could not be delivered.\n\n--- Original message follows.\n\n' +
        'Received: from relay.example.nhs.uk\nSubject: test\n\nSee 550 5.1.1 in the body\n',
    );
    assert.equal(dsn.action, 'unknown');
    assert.equal(dsn.status, undefined);
  });

  it('reads an X-Relay-Delivery header quoted with > marks', () => {
    const dsn = parseDsn(
      `Your message bounced: 550 5.1.1 user unknown\n\n> X-Relay-Delivery: ${FIXTURE_DELIVERY_ID}\n> Subject: x\n`,
    );
    assert.equal(dsn.deliveryId, FIXTURE_DELIVERY_ID);
    assert.equal(dsn.action, 'failed');
  });

  it('reads nothing from an empty message', () => {
    assert.deepEqual(parseDsn(''), { action: 'unknown' });
  });
});
