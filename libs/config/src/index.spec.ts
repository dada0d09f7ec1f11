import { IsString } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { BaseConfig, ConfigError, loadConfig, Sensitive } from './index';

class ExampleConfig extends BaseConfig {
  @IsString()
  @Sensitive()
  SMTP_PASSWORD!: string;
}

describe('loadConfig', () => {
  it('applies defaults and converts types', () => {
    const config = loadConfig(ExampleConfig, { PORT: '3001', SMTP_PASSWORD: 'x', MIGRATE_ON_START: 'false' });
    expect(config.PORT).toBe(3001);
    expect(config.MIGRATE_ON_START).toBe(false);
    expect(config.NATS_URL).toBe('nats://127.0.0.1:4222');
  });

  it('names every bad variable and hides secrets', () => {
    let error: unknown;
    try {
      loadConfig(ExampleConfig, { PORT: '70000', NATS_URL: 'http://x', DATABASE_URL: 'mysql://user:secret@h/db' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/PORT=70000: PORT must not be greater than 65535/);
    expect(message).toMatch(/NATS_URL=/);
    expect(message).toMatch(/DATABASE_URL=\(hidden\)/);
    expect(message).toMatch(/SMTP_PASSWORD=\(hidden\)/);
    expect(message).not.toContain('secret');
  });
});
