import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config.ts';
import { DAY, HOUR } from '../../../src/time.ts';

describe('assurance configuration', () => {
  it('has the documented defaults', () => {
    assert.deepEqual(loadConfig({}).assurance, {
      testAlertIntervalMs: 7 * DAY,
      safeguardingEmail: undefined,
      dailySummaryAt: '07:00',
      volumeMinAverage: 5,
      volumeDropRatio: 0.5,
    });
  });

  it('reads every variable, and off for test alerts', () => {
    const config = loadConfig({
      TEST_ALERT_INTERVAL: 'off',
      SAFEGUARDING_EMAIL: 'safeguarding@ambulance.example',
      DAILY_SUMMARY_AT: '06:30',
      VOLUME_MIN_AVERAGE: '12',
      VOLUME_DROP_RATIO: '0.25',
    });
    assert.deepEqual(config.assurance, {
      testAlertIntervalMs: null,
      safeguardingEmail: 'safeguarding@ambulance.example',
      dailySummaryAt: '06:30',
      volumeMinAverage: 12,
      volumeDropRatio: 0.25,
    });
    assert.equal(loadConfig({ TEST_ALERT_INTERVAL: '36h' }).assurance.testAlertIntervalMs, 36 * HOUR);
  });

  it('names every bad value', () => {
    try {
      loadConfig({
        TEST_ALERT_INTERVAL: 'weekly',
        SAFEGUARDING_EMAIL: 'nobody',
        DAILY_SUMMARY_AT: '7am',
        VOLUME_MIN_AVERAGE: '-1',
        VOLUME_DROP_RATIO: '2',
      });
      assert.fail('accepted bad values');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(
        error.problems.map((p) => p.split(':')[0]),
        [
          'TEST_ALERT_INTERVAL',
          'SAFEGUARDING_EMAIL',
          'DAILY_SUMMARY_AT',
          'VOLUME_MIN_AVERAGE',
          'VOLUME_DROP_RATIO',
        ],
      );
    }
  });
});
