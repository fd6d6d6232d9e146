import type { AvroRecordSchema } from '@tenantry/events';
import { defineEvent } from '@tenantry/events';

// Reporting's published events and jobs. Evolve only by adding fields with defaults.

const TOPIC = 'reporting.events';
const JOBS_TOPIC = 'reporting.jobs';
const NAMESPACE = 'tenantry.reporting';

function record(name: string, doc: string, fields: AvroRecordSchema['fields']): AvroRecordSchema {
  return { type: 'record', name, namespace: NAMESPACE, doc, fields };
}

/** The reports an export can hold. */
export type ExportableReport = 'usage' | 'members' | 'activity' | 'billing';
export type ExportFormat = 'csv' | 'json';

export interface ReportExportRequested {
  tenantId: string;
  exportId: string;
  report: ExportableReport;
  format: ExportFormat;
  /** The report's query, as JSON (`{"from":...,"to":...,"granularity":"day"}` for usage). */
  parameters: string;
  requestedByType: string;
  requestedById: string;
  /** 1 for the first enqueue; a re-enqueue of the same export counts up. */
  attempt: number;
  /** `report-export:<exportId>`: one file per key, whoever runs the job. */
  idempotencyKey: string;
  requestedAt: string;
}
/** The background job that builds one tenant's report export. */
export const ReportExportRequestedJob = defineEvent<ReportExportRequested>({
  type: 'reporting.export.requested',
  topic: JOBS_TOPIC,
  schema: record('ReportExportRequested', 'Build a report export for a tenant.', [
    { name: 'tenantId', type: 'string' },
    { name: 'exportId', type: 'string' },
    { name: 'report', type: 'string' },
    { name: 'format', type: 'string' },
    { name: 'parameters', type: 'string' },
    { name: 'requestedByType', type: 'string' },
    { name: 'requestedById', type: 'string' },
    { name: 'attempt', type: 'int', default: 1 },
    { name: 'idempotencyKey', type: 'string' },
    { name: 'requestedAt', type: 'string' },
  ]),
});

export interface ReportReady {
  tenantId: string;
  exportId: string;
  report: ExportableReport;
  format: ExportFormat;
  rows: number;
  sizeBytes: number;
  readyAt: string;
  /** The file is deleted after this instant. */
  expiresAt: string;
}
/** An export is ready to download (through a signed link the reporting API hands out). */
export const ReportReadyEvent = defineEvent<ReportReady>({
  type: 'reporting.report.ready',
  topic: TOPIC,
  schema: record('ReportReady', 'A report export is ready to download.', [
    { name: 'tenantId', type: 'string' },
    { name: 'exportId', type: 'string' },
    { name: 'report', type: 'string' },
    { name: 'format', type: 'string' },
    { name: 'rows', type: 'long' },
    { name: 'sizeBytes', type: 'long' },
    { name: 'readyAt', type: 'string' },
    { name: 'expiresAt', type: 'string' },
  ]),
});

export interface ReportingTenantPurged {
  tenantId: string;
  purgedAt: string;
}
/** Reporting's confirmation in the offboarding saga: read models and exports gone, a tombstone left. */
export const ReportingTenantPurgedEvent = defineEvent<ReportingTenantPurged>({
  type: 'reporting.tenant.purged',
  topic: TOPIC,
  schema: record('ReportingTenantPurged', 'Reporting erased a deleted tenant’s read models.', [
    { name: 'tenantId', type: 'string' },
    { name: 'purgedAt', type: 'string' },
  ]),
});

export const REPORTING_EVENTS = [ReportReadyEvent, ReportingTenantPurgedEvent] as const;
export const REPORTING_JOBS = [ReportExportRequestedJob] as const;

/** The export job's idempotency key. */
export function reportExportIdempotencyKey(exportId: string): string {
  return `report-export:${exportId}`;
}
