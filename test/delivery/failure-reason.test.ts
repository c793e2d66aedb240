import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failureReason } from '../../src/delivery/failure-reason.ts';
import { loadConfig } from '../../src/config.ts';
import { productionSettings } from '../helpers/production.ts';

describe('failureReason: why a send failed, in one word', () => {
  it('classifies the details nodemailer and the webhook channel record', () => {
    const cases: [string, string][] = [
      ['ESOCKET: certificate has expired', 'tls'],
      ['ESOCKET: self-signed certificate', 'tls'],
      ['ESOCKET: unable to verify the first certificate', 'tls'],
      ['535 5.7.8 Authentication credentials invalid', 'auth'],
      ['EAUTH: Invalid login', 'auth'],
      ['EDNS: getaddrinfo ENOTFOUND mail.example.org', 'dns'],
      ['ESOCKET: connect ECONNREFUSED 127.0.0.1:25', 'refused'],
      ['ETIMEDOUT: Connection timeout', 'timeout'],
      ['ECONNECTION: Connection closed unexpectedly', 'connection'],
      ['550 5.1.1 <team@example.org>: Mailbox unavailable', 'rejected'],
      ['451 4.3.0 Try again later', 'rejected'],
      ['HTTP 500', 'webhook'],
      ['internal error while preparing the message', 'internal'],
      ['something new', 'other'],
    ];
    for (const [detail, reason] of cases) assert.equal(failureReason(detail), reason, detail);
    assert.equal(failureReason(null), undefined);
  });
});

describe('SMTP_TLS', () => {
  const production = { ...productionSettings(), BOUNCES: 'off', SMTP_URL: 'smtp://relay.example.org:587' };
  it('is starttls by default, implicit for smtps://, and never off in production', () => {
    assert.equal(loadConfig(production).smtpTls, 'starttls');
    assert.equal(loadConfig({ ...production, SMTP_URL: 'smtps://relay.example.org' }).smtpTls, 'implicit');
    assert.throws(() => loadConfig({ ...production, SMTP_TLS: 'off' }), /SMTP_TLS=off is never allowed/);
    assert.equal(loadConfig({ SMTP_TLS: 'off' }).smtpTls, 'off');
    assert.throws(
      () => loadConfig({ SMTP_URL: 'smtps://x.example.org', SMTP_TLS: 'starttls' }),
      /contradicts/,
    );
    assert.throws(() => loadConfig({ SMTP_TLS: 'yes' }), /SMTP_TLS: must be starttls, implicit or off/);
  });
});
