import { Injectable, NotFoundException } from '@nestjs/common';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { v7 as uuidv7 } from 'uuid';
import { AttributesRepository } from '../attributes/attributes.repository';
import { bump, updatedEvent } from '../contacts/contact-events';
import { ContactStore, type ContactRow } from '../contacts/contact-store.repository';
import { emptyContact } from '../contacts/contacts.service';
import { normalizeFields } from '../contacts/fields';
import { applyAttributes, type AttributeType, type FieldError } from '../contacts/profile';
import { coerceCell, splitRecord, type ImportRow } from './import-rows';
import { ImportsRepository, type ImportJobRow } from './imports.repository';

export type ImportFormat = 'csv' | 'ndjson';
const BATCH = 1000;

type Failure = { line: number; reason: string };
/** A batch being written: `locked` once it holds its identity locks (or failed), `done` once committed. */
type BatchProgress = { locked: Promise<void>; done: Promise<void> };

function describe(errors: FieldError[]): string {
  return errors.map((e) => `${e.path}: ${e.messages.join(', ')}`).join('; ');
}

/**
 * Streams a CSV or NDJSON body into contacts: parsed record by record (memory stays flat), upserted
 * by externalId (else email) in transactions of 1000 rows with multi-row statements. A bad row is
 * recorded with its line number and reason; the others go in.
 */
@Injectable()
export class ImportsService {
  constructor(
    private readonly store: ContactStore,
    private readonly attributes: AttributesRepository,
    private readonly imports: ImportsRepository,
  ) {}

  async run(workspaceId: string, format: ImportFormat, body: Readable): Promise<ImportJobRow> {
    const job = await this.imports.create(workspaceId, uuidv7(), format);
    const skipped: Failure[] = [];
    let batch: ImportRow[] = [];
    // Up to two batches are written while the next is parsed, so Postgres works on one batch while
    // this process builds the other (two cores, each busy). Batches still commit in file order, and
    // not after one that failed (see applyBatch). Memory stays at three batches.
    const writing: Promise<void>[] = [];
    let previous: BatchProgress = { locked: Promise.resolve(), done: Promise.resolve() };
    const dispatch = async (rows: ImportRow[]): Promise<void> => {
      const failed = skipped.splice(0);
      if (writing.length === 2) await writing.shift();
      previous = this.startBatch(workspaceId, job.id, rows, failed, previous);
      previous.done.catch(() => undefined); // awaited by a later dispatch or below; never left unhandled
      writing.push(previous.done);
    };
    try {
      for await (const row of format === 'csv' ? this.csvRows(body, skipped) : this.ndjsonRows(body, skipped)) {
        batch.push(row);
        if (batch.length >= BATCH) {
          await dispatch(batch);
          batch = [];
        }
      }
      await dispatch(batch);
      await Promise.all(writing);
      return await this.imports.finish(job.id, 'completed');
    } catch (error) {
      await Promise.allSettled(writing); // let batches in flight settle before the job is closed
      const line = (error as { lines?: number }).lines ?? 0;
      return this.imports.finish(job.id, 'failed', { line, reason: `import stopped: ${(error as Error).message}` });
    }
  }

  recent(workspaceId: string): Promise<ImportJobRow[]> {
    return this.imports.recent(workspaceId);
  }

  async get(workspaceId: string, id: string): Promise<ImportJobRow & { errors: Failure[] }> {
    const job = await this.imports.get(workspaceId, id);
    if (!job) throw new NotFoundException('Import not found');
    return { ...job, errors: await this.imports.errors(id, 100) };
  }

  /** The error report as CSV (`line,reason`). */
  async errorsCsv(workspaceId: string, id: string): Promise<string> {
    if (!(await this.imports.get(workspaceId, id))) throw new NotFoundException('Import not found');
    const rows = await this.imports.errors(id, 1_000_000);
    return ['line,reason', ...rows.map((r) => `${r.line},"${r.reason.replace(/"/g, '""')}"`)].join('\n') + '\n';
  }

  private async *csvRows(body: Readable, skipped: Failure[]): AsyncGenerator<ImportRow> {
    const parser = body.pipe(parse({ columns: true, bom: true, trim: true, skip_empty_lines: true, skip_records_with_error: true, info: true }));
    parser.on('skip', (error: Error & { lines?: number }) => skipped.push({ line: error.lines ?? 0, reason: error.message }));
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) yield splitRecord(info.lines, record);
  }

  private async *ndjsonRows(body: Readable, skipped: Failure[]): AsyncGenerator<ImportRow> {
    let line = 0;
    for await (const text of createInterface({ input: body, crlfDelay: Infinity })) {
      line++;
      if (!text.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        skipped.push({ line, reason: 'not valid JSON' });
        continue;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) skipped.push({ line, reason: 'each line must be a JSON object' });
      else yield splitRecord(line, value as Record<string, unknown>);
    }
  }

  /** Starts writing a batch once the one before holds its identity locks (see applyBatch). */
  private startBatch(workspaceId: string, jobId: string, rows: ImportRow[], failed: Failure[], previous: BatchProgress): BatchProgress {
    let signalLocked!: () => void;
    const locked = new Promise<void>((resolve) => (signalLocked = resolve));
    const done = previous.locked.then(() => this.applyBatch(workspaceId, jobId, rows, failed, signalLocked, previous.done)).finally(signalLocked);
    return { locked, done };
  }

  /**
   * One batch in one transaction, overlapping the batch before (`previousDone`) only where the two
   * cannot meet: this one starts once that one holds its identity locks, so a row sharing an
   * identity with it waits for its commit and then sees it; it locks existing contacts' rows, and
   * writes the rows both touch (the job's counters, inferred definitions) and commits, only after
   * that one has committed. While it waits it holds nothing the other still needs, so no deadlock.
   */
  private async applyBatch(workspaceId: string, jobId: string, rows: ImportRow[], failed: Failure[], onLocked: () => void, previousDone: Promise<void>): Promise<void> {
    const valid: { line: number; fields: Partial<ContactRow>; attributes: Record<string, unknown> }[] = [];
    for (const row of rows) {
      const errors: FieldError[] = [];
      const fields = normalizeFields(row.fields, errors);
      if (!errors.length && !fields.externalId && !fields.email) errors.push({ path: 'externalId', messages: ['a row needs an externalId or an email'] });
      if (errors.length) failed.push({ line: row.line, reason: describe(errors) });
      else valid.push({ line: row.line, fields, attributes: row.attributes });
    }
    let done = 0;
    const newDefinitions = await this.store.tx(async (c) => {
      const externalIds = [...new Set(valid.map((r) => r.fields.externalId).filter((v): v is string => !!v))];
      const emails = [...new Set(valid.map((r) => r.fields.email).filter((v): v is string => !!v))];
      const { byExternalId, byEmail } = await this.imports.lockAndFindExisting(c, workspaceId, externalIds, emails);
      onLocked();
      const existingIds = [...byExternalId.values(), ...byEmail.values()];
      if (existingIds.length) await previousDone;
      const locked = existingIds.length ? await this.store.lockMany(c, workspaceId, existingIds) : new Map<string, ContactRow>();
      const before = new Map(locked);
      const created = new Map<string, ContactRow>();
      // From the cache at most 2 s old that the bus path reads too: two round trips a batch fewer.
      const schema = (await this.attributes.recentSchemas(c, [workspaceId])).get(workspaceId)!;
      const inferred: { workspaceId: string; name: string; type: AttributeType }[] = [];
      const at = new Date();
      for (const r of valid) {
        const id = (r.fields.externalId && byExternalId.get(r.fields.externalId)) || (!r.fields.externalId && r.fields.email && byEmail.get(r.fields.email)) || undefined;
        let row = id ? (created.get(id) ?? locked.get(id)) : undefined;
        if (id && !row) {
          failed.push({ line: r.line, reason: 'contact changed concurrently; retry the row' });
          continue;
        }
        row ??= emptyContact(workspaceId, at);
        const owner = r.fields.email ? byEmail.get(r.fields.email) : undefined;
        if (owner && owner !== row.id) {
          failed.push({ line: r.line, reason: 'email: belongs to another contact' });
          continue;
        }
        const patch = Object.fromEntries(Object.entries(r.attributes).map(([k, v]) => [k, coerceCell(v, schema.definitions.get(k))]));
        const result = applyAttributes({ attributes: row.attributes, attrTs: row.attrTs }, patch, { definitions: schema.definitions, policy: schema.policy, at: at.toISOString(), force: true });
        if (result.errors.length) {
          failed.push({ line: r.line, reason: describe(result.errors) });
          continue;
        }
        for (const d of result.newDefinitions) {
          schema.definitions.set(d.name, d.type);
          inferred.push({ workspaceId, ...d });
        }
        row = { ...row, ...r.fields, attributes: result.attributes, attrTs: result.attrTs };
        if (locked.has(row.id)) locked.set(row.id, row);
        else created.set(row.id, row);
        if (row.externalId) byExternalId.set(row.externalId, row.id);
        if (row.email) byEmail.set(row.email, row.id);
        done++;
      }
      const events = await this.store.copyCreated(c, [...created.values()]);
      await previousDone;
      const updates: ContactRow[] = [];
      for (const [id, row] of locked) {
        const after = bump(row, {}, at);
        const event = updatedEvent(before.get(id)!, after);
        if (!event) continue;
        updates.push(after);
        events.push(event);
      }
      await this.attributes.insertInferred(c, inferred);
      await this.store.writeBatch(c, { inserts: [], updates, identities: [], events }); // after the previous batch's: its events come first
      await this.imports.progress(c, jobId, done, failed);
      return inferred;
    });
    this.attributes.rememberInferred(newDefinitions); // the cached schema learns them once they are committed
  }
}
