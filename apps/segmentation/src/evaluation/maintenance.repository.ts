import type { Pool } from 'pg';

/**
 * Hourly housekeeping: a size-history point for every live segment (the chart between batch runs)
 * and pruning of CRM event ids older than the bus's 7-day retention (no redelivery can be older).
 */
export async function runMaintenance(pool: Pool, now: Date): Promise<void> {
  await pool.query(
    `INSERT INTO segmentation.segment_size (segment_id, at, size)
     SELECT s.id, $1::timestamptz, (SELECT count(*) FROM segmentation.membership m WHERE m.segment_id = s.id)
     FROM segmentation.segment s WHERE s.deleted_at IS NULL AND s.status = 'ready' ON CONFLICT DO NOTHING`,
    [now.toISOString()],
  );
  await pool.query(`DELETE FROM segmentation.processed_event WHERE processed_at < $1::timestamptz - interval '8 days'`, [now.toISOString()]);
}
