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

  it('flags at least 90 % of the injected instructions of its corpus at a precision of at least 0.95, and holds its measure on texts written apart from the rules', async () => {
    const report = await evaluateFirewall();
    expect(report.injections.samples.injections).toBeGreaterThanOrEqual(100);
    expect(report.injections.recall).toBeGreaterThanOrEqual(0.9);
    expect(report.injections.precision).toBeGreaterThanOrEqual(0.95);
    // The untouched half of the set written apart from the rules measures how they generalise (docs/firewall.md):
    // far below the corpus, so it is floored where it stands, against a rule that catches less or flags more benign text.
    expect(report.injections_held_out.samples).toEqual({ injections: 68, benign: 80 });
    expect(report.injections_held_out.recall).toBeGreaterThanOrEqual(0.33);
    expect(report.injections_held_out.precision).toBeGreaterThanOrEqual(0.95);
  }, 60_000);
});
