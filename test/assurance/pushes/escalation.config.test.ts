import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config.ts';
import { HOUR, MINUTE } from '../../../src/time.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('the configuration was accepted');
}

describe('escalation settings', () => {
  it('has the documented defaults', () => {
    assert.deepEqual(loadConfig({}).escalation, {
      claimByMs: 15 * MINUTE,
      claimTtlMs: 2 * HOUR,
      reopenAfterMs: HOUR,
      ladder: [],
      pagerWebhookUrl: undefined,
      pagerWebhookSecret: undefined,
    });
  });

  it('reads durations with units and the ladder as a list of addresses', () => {
    const config = loadConfig({
      ESCALATION_CLAIM_BY: '5m',
      ESCALATION_CLAIM_TTL: '90m',
      ESCALATION_REOPEN_AFTER: '24h',
      ESCALATION_LADDER: ' Lead@Example.org , duty.manager@example.org ',
    });
    assert.equal(config.escalation.claimByMs, 5 * MINUTE);
    assert.equal(config.escalation.claimTtlMs, 90 * MINUTE);
    assert.equal(config.escalation.reopenAfterMs, 24 * HOUR);
    assert.deepEqual(config.escalation.ladder, ['lead@example.org', 'duty.manager@example.org']);
  });

  it('names the variable in every problem', () => {
    const problems = problemsOf({
      ESCALATION_CLAIM_BY: 'soon',
      ESCALATION_CLAIM_TTL: '0m',
      ESCALATION_REOPEN_AFTER: '25h',
      ESCALATION_LADDER: 'lead@example.org, the duty manager',
      PAGER_WEBHOOK_URL: 'https://pager.example.org/relay',
    });
    assert.equal(problems.length, 5, problems.join('\n'));
    assert.match(
      problems.find((p) => p.startsWith('ESCALATION_CLAIM_BY:')) ?? '',
      /^ESCALATION_CLAIM_BY: Invalid duration/,
    );
    assert.match(
      problems.find((p) => p.startsWith('ESCALATION_CLAIM_TTL:')) ?? '',
      /^ESCALATION_CLAIM_TTL: must be longer than zero/,
    );
    assert.match(
      problems.find((p) => p.startsWith('ESCALATION_REOPEN_AFTER:')) ?? '',
      /^ESCALATION_REOPEN_AFTER: must be at most 24h/,
    );
    assert.match(
      problems.find((p) => p.startsWith('ESCALATION_LADDER:')) ?? '',
      /^ESCALATION_LADDER: "the duty manager" is not one email address/,
    );
    assert.ok(problems.includes('PAGER_WEBHOOK_SECRET is required when PAGER_WEBHOOK_URL is set'));
  });
});
