import { Injectable, NotFoundException } from '@nestjs/common';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { v7 as uuidv7 } from 'uuid';
import type { OutboxRow } from '@tessera/bus';
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
    // One batch is written while the next is parsed (CPU here, I/O there); batches still commit in
    // file order, each starting after the previous one committed. Memory stays at two batches.
    let writing: Promise<void> | undefined;
    const dispatch = async (rows: ImportRow[]): Promise<void> => {
      const failed = skipped.splice(0);
      if (writing) await writing;
      writing = this.applyBatch(workspaceId, job.id, rows, failed);
      writing.catch(() => undefined); // awaited by the next dispatch or below; never left unhandled
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
      await writing;
      return await this.imports.finish(job.id, 'completed');
    } catch (error) {
      await writing?.catch(() => undefined); // let a batch in flight settle before the job is closed
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

  private async applyBatch(workspaceId: string, jobId: string, rows: ImportRow[], failed: Failure[]): Promise<void> {
    const valid: { line: number; fields: Partial<ContactRow>; attributes: Record<string, unknown> }[] = [];
    for (const row of rows) {
      const errors: FieldError[] = [];
      const fields = normalizeFields(row.fields, errors);
      if (!errors.length && !fields.externalId && !fields.email) errors.push({ path: 'externalId', messages: ['a row needs an externalId or an email'] });
      if (errors.length) failed.push({ line: row.line, reason: describe(errors) });
      else valid.push({ line: row.line, fields, attributes: row.attributes });
    }
    let done = 0;
    await this.store.tx(async (c) => {
      const externalIds = [...new Set(valid.map((r) => r.fields.externalId).filter((v): v is string => !!v))];
      const emails = [...new Set(valid.map((r) => r.fields.email).filter((v): v is string => !!v))];
      await this.store.lockIdentities(c, [...externalIds.map((v) => `${workspaceId}:external_id:${v}`), ...emails.map((v) => `${workspaceId}:email:${v}`)]);
      const { byExternalId, byEmail } = await this.imports.existing(c, workspaceId, externalIds, emails);
      const locked = await this.store.lockMany(c, workspaceId, [...byExternalId.values(), ...byEmail.values()]);
      const before = new Map(locked);
      const created = new Map<string, ContactRow>();
      const schema = (await this.attributes.schemas(c, [workspaceId])).get(workspaceId)!;
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
      await this.store.copyCreated(c, [...created.values()]); // first: their events' ids sort before the updates' (relay order)
      const events: OutboxRow[] = [];
      const updates: ContactRow[] = [];
      for (const [id, row] of locked) {
        const after = bump(row, {}, at);
        const event = updatedEvent(before.get(id)!, after);
        if (!event) continue;
        updates.push(after);
        events.push(event);
      }
      await this.attributes.insertInferred(c, inferred);
      await this.store.writeBatch(c, { inserts: [], updates, identities: [], outbox: events });
      await this.imports.progress(c, jobId, done, failed);
    });
  }
}
