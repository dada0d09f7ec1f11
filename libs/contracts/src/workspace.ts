/**
 * The workspace created on first start with an empty database. Its id is fixed so that every
 * service can set up its defaults (e.g. ingestion's default source) without waiting for another.
 */
export const DEFAULT_WORKSPACE_ID = '00000000-0000-4000-8000-000000000001';
