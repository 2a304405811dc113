import type { SqlExecutor } from './database.js';

/** Small named values of an installation (when it was initialised, with which options). */
export class SettingsRepository {
  constructor(private readonly sql: SqlExecutor) {}

  async get(key: string): Promise<string | undefined> {
    const r = await this.sql.queryOne<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]);
    return r?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.sql.execute('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }
}
