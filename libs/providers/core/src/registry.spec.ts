import { describe, expect, it } from 'vitest';
import { IsString } from 'class-validator';
import { defineProvider, SmsProvider, validateProviderOptions, redactOptions } from './provider';
import { ProviderRegistry } from './registry';

class Options {
  @IsString() token!: string;
}
class Fake extends SmsProvider {
  async send(): Promise<{ providerMessageId: string }> {
    return { providerMessageId: '1' };
  }
}
const fake = defineProvider({ id: 'fake', channel: 'sms', optionsSchema: Options, secretOptions: ['token'], create: () => new Fake() });

describe('provider registry', () => {
  it('fails at start-up on a duplicate id', () => {
    expect(() => new ProviderRegistry([fake, { ...fake }])).toThrow(/Duplicate provider id "fake"/);
    expect(new ProviderRegistry([fake]).list('sms').map((d) => d.id)).toEqual(['fake']);
  });

  it('validates options (unknown keys refused) and redacts secrets', () => {
    const result = validateProviderOptions(fake, { token: 1, other: 2 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => p.path).sort()).toEqual(['other', 'token']);
    expect(validateProviderOptions(fake, { token: 'x' }).ok).toBe(true);
    expect(redactOptions(fake, { token: 's' })).toEqual({ token: '(stored)' });
  });
});
