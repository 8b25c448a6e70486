import { describe, expect, it } from 'vitest';
import { ORIGINS } from '../../src/domain/provenance.js';
import { originsAtLeast, trustAtLeast, trustOf, TRUST_LEVELS } from '../../src/domain/trust.js';

describe('trust', () => {
  it('follows the origin: a person or the server high, the agent and imports medium, tools and pages low', () => {
    expect(ORIGINS.map((origin) => [origin, trustOf({ origin, flagged: false }).level])).toEqual([
      ['user', 'high'],
      ['agent', 'medium'],
      ['tool', 'low'],
      ['web', 'low'],
      ['import', 'medium'],
      ['system', 'high'],
    ]);
    expect(trustOf({ origin: null, flagged: false })).toEqual({ level: 'medium', reason: 'origin not recorded' });
  });

  it('is low for flagged text whatever its origin, and says why', () => {
    for (const origin of [...ORIGINS, null]) expect(trustOf({ origin, flagged: true })).toEqual({ level: 'low', reason: 'reads as instructions to a model' });
  });

  it('orders its levels, and a minimum admits exactly the origins that reach it', () => {
    expect(TRUST_LEVELS.filter((level) => trustAtLeast(level, 'medium'))).toEqual(['medium', 'high']);
    expect(trustAtLeast('low', 'low')).toBe(true);
    expect(trustAtLeast('medium', 'high')).toBe(false);
    expect(originsAtLeast('high')).toEqual({ origins: ['user', 'system'], unrecorded: false });
    expect(originsAtLeast('medium')).toEqual({ origins: ['user', 'system', 'agent', 'import'], unrecorded: true });
    expect(originsAtLeast('low').origins.sort()).toEqual([...ORIGINS].sort());
    for (const min of TRUST_LEVELS) {
      const admitted = originsAtLeast(min);
      for (const origin of ORIGINS) expect(admitted.origins.includes(origin), `${min} ${origin}`).toBe(trustAtLeast(trustOf({ origin, flagged: false }).level, min));
    }
  });
});
