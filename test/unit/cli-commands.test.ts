import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { SETTING_GROUPS } from '../../src/cli/setting-groups.js';
import { SETTINGS } from '../../src/config.js';

describe('the commands and the settings they take', () => {
  it('puts every setting in exactly one group, so a new setting cannot be left out of serve', () => {
    const grouped = Object.values(SETTING_GROUPS).flatMap((group) => [...group.flags]);
    expect([...grouped].sort()).toEqual(SETTINGS.map((s) => s.flag).sort());
    expect(new Set(grouped).size).toBe(grouped.length);
    expect([...COMMANDS.find((c) => c.name === 'serve')!.settings].sort()).toEqual(SETTINGS.map((s) => s.flag).sort());
  });

  it('lets every command read its data directory, and gives no option two meanings', () => {
    const types = new Map<string, string>();
    for (const command of COMMANDS) {
      expect(command.settings, command.name).toContain('data-dir');
      for (const [name, option] of Object.entries(command.options)) {
        expect(types.get(name) ?? option.type, `${command.name} --${name}`).toBe(option.type);
        types.set(name, option.type);
        // An option named like a setting must be a string, as settings are.
        if (SETTINGS.some((s) => s.flag === name)) expect(option.type).toBe('string');
      }
    }
  });
});
