import { describe, expect, it } from 'vitest';
import { evaluateFirewall } from '../../scripts/eval/firewall.js';

// The corpus is fixed (a seeded generator), so these numbers are the same on every run.
describe('the write firewall on its labelled corpus (npm run eval:firewall)', () => {
  it('finds at least 95 % of the secrets of every kind, at a precision of at least 0.95', async () => {
    const report = await evaluateFirewall();
    expect(report.samples.secrets).toBeGreaterThanOrEqual(150);
    expect(report.samples.benign).toBeGreaterThanOrEqual(100);
    expect(report.secrets.recall).toBeGreaterThanOrEqual(0.95);
    expect(report.secrets.precision).toBeGreaterThanOrEqual(0.95);
    for (const [kind, entry] of Object.entries(report.by_kind)) expect(entry.recall, kind).toBeGreaterThanOrEqual(0.9);
  }, 60_000);

  it('flags at least 90 % of the injected instructions of its corpus at a precision of at least 0.95, and no benign text it was not written for', async () => {
    const report = await evaluateFirewall();
    expect(report.injections.samples.injections).toBeGreaterThanOrEqual(100);
    expect(report.injections.recall).toBeGreaterThanOrEqual(0.9);
    expect(report.injections.precision).toBeGreaterThanOrEqual(0.95);
    // The held-out attacks are reported, not floored: they measure how the rules generalise (docs/firewall.md).
    expect(report.injections_held_out.wrong.filter((w) => w.label === 'held out: benign')).toEqual([]);
  }, 60_000);
});
