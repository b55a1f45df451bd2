import type { KV, KvEntry } from '@nats-io/kv';
import { batchingKey } from '@chorus/shared/bus/names';
import { batchSettings, defaultBatchSettings, type BatchSettings } from '@chorus/shared/batching/batch-settings';
import type { Logger } from '@chorus/shared/logging/logger';

export type SettingsParse = { ok: true; settings: BatchSettings } | { ok: false; error: string };

/** Validates the JSON stored under `batching`. */
export function parseBatchSettings(text: string): SettingsParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const parsed = batchSettings.safeParse(value);
  if (!parsed.success) {
    return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ') };
  }
  return { ok: true, settings: parsed.data };
}

/**
 * The batching settings as the KV key `batching` says, kept current by a watch so the autopilot
 * or a person can retune a running fleet. A deleted key means defaults; an invalid value is logged
 * and ignored (the last good settings stay).
 */
export class LiveSettings {
  private value: BatchSettings;
  private watcher: { stop(): void } | undefined;
  private watching: Promise<void> | undefined;

  constructor(
    private readonly kv: KV,
    private readonly log: Logger,
    private readonly onChange: (settings: BatchSettings) => void,
    private readonly defaults: BatchSettings = defaultBatchSettings,
  ) {
    this.value = { ...defaults };
  }

  current(): BatchSettings {
    return { ...this.value };
  }

  /** Reads the current value, then watches for changes; resolves with the settings in force. */
  async start(): Promise<BatchSettings> {
    const entry = await this.kv.get(batchingKey);
    if (entry) this.apply(entry);
    // The watch also delivers the latest value first; apply() ignores it when nothing changed.
    const iterator = await this.kv.watch({ key: batchingKey });
    this.watcher = iterator;
    this.watching = (async () => {
      for await (const e of iterator) this.apply(e);
    })().catch((error: unknown) => this.log.error({ err: error }, 'batching settings watch ended'));
    return this.current();
  }

  async stop(): Promise<void> {
    this.watcher?.stop();
    await this.watching;
  }

  private apply(entry: KvEntry): void {
    let next: BatchSettings;
    if (entry.operation === 'DEL' || entry.operation === 'PURGE') {
      next = { ...this.defaults };
    } else {
      const parsed = parseBatchSettings(entry.string());
      if (!parsed.ok) {
        this.log.warn({ key: batchingKey, revision: entry.revision, error: parsed.error }, 'invalid batching settings ignored');
        return;
      }
      next = parsed.settings;
    }
    if (next.batchSize === this.value.batchSize && next.flushIntervalMs === this.value.flushIntervalMs) return;
    this.value = next;
    this.log.info({ batchSize: next.batchSize, flushIntervalMs: next.flushIntervalMs, source: next.source, revision: entry.revision }, 'batching settings applied');
    this.onChange(this.current());
  }
}
