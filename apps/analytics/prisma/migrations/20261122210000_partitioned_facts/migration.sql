-- Fact becomes a table range-partitioned by month on occurred_at (hand-written: Prisma does not
-- model partitioning). The old table's rows are copied over, then it is dropped.
ALTER TABLE "analytics"."fact" RENAME TO "fact_unpartitioned";
ALTER TABLE "analytics"."fact_unpartitioned" RENAME CONSTRAINT "fact_pkey" TO "fact_unpartitioned_pkey";
ALTER INDEX "analytics"."fact_workspace_id_occurred_at_idx" RENAME TO "fact_unpartitioned_workspace_id_occurred_at_idx";

CREATE TABLE "analytics"."fact" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "subject" TEXT NOT NULL,
    "contact_id" UUID,
    "actor" TEXT,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL,
    "data" JSONB NOT NULL,
    "received_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "txid" BIGINT NOT NULL DEFAULT ((pg_current_xact_id())::text)::bigint,
    "seq" BIGSERIAL NOT NULL,

    CONSTRAINT "fact_pkey" PRIMARY KEY ("id", "occurred_at")
) PARTITION BY RANGE ("occurred_at");

-- Rows outside every monthly partition (very old or far-future events) land here;
-- ensure_fact_partition moves them out when their month's partition is created.
CREATE TABLE "analytics"."fact_default" PARTITION OF "analytics"."fact" DEFAULT;

CREATE INDEX "fact_workspace_id_occurred_at_idx" ON "analytics"."fact"("workspace_id", "occurred_at");

-- CreateTable
CREATE TABLE "rollup" (
    "workspace_id" UUID NOT NULL,
    "grain" CHAR(1) NOT NULL,
    "dim" TEXT NOT NULL,
    "bucket" TIMESTAMPTZ(6) NOT NULL,
    "metric" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "count" BIGINT NOT NULL,

    CONSTRAINT "rollup_pkey" PRIMARY KEY ("workspace_id","grain","dim","bucket","metric","value")
);

-- CreateTable
CREATE TABLE "unique_actor" (
    "workspace_id" UUID NOT NULL,
    "scope" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "actor" TEXT NOT NULL,

    CONSTRAINT "unique_actor_pkey" PRIMARY KEY ("workspace_id","scope","day","actor")
);

-- CreateTable
CREATE TABLE "workspace_setting" (
    "workspace_id" UUID NOT NULL,
    "timezone" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workspace_setting_pkey" PRIMARY KEY ("workspace_id")
);

-- CreateTable
CREATE TABLE "export_destination" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "config" JSONB NOT NULL,
    "subjects" TEXT[],
    "batch_size" INTEGER NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "cursor_txid" BIGINT NOT NULL DEFAULT 0,
    "cursor_seq" BIGINT NOT NULL DEFAULT 0,
    "delivered_count" BIGINT NOT NULL DEFAULT 0,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "last_error_at" TIMESTAMPTZ(6),
    "last_success_at" TIMESTAMPTZ(6),
    "next_attempt_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "export_destination_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "unique_actor_workspace_id_actor_idx" ON "unique_actor"("workspace_id", "actor");

-- CreateIndex
CREATE INDEX "export_destination_workspace_id_idx" ON "export_destination"("workspace_id");

-- CreateIndex
CREATE INDEX "fact_workspace_id_contact_id_idx" ON "fact"("workspace_id", "contact_id");

-- CreateIndex
CREATE INDEX "fact_txid_seq_idx" ON "fact"("txid", "seq");

-- Creates the monthly partition holding `month` if missing (idempotent), moving any of its rows
-- out of the default partition first. The service calls it at start-up and daily, months ahead.
CREATE FUNCTION "analytics"."ensure_fact_partition"(month DATE) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
DECLARE
    lo TIMESTAMPTZ := date_trunc('month', month::timestamp) AT TIME ZONE 'UTC';
    hi TIMESTAMPTZ := (date_trunc('month', month::timestamp) + INTERVAL '1 month') AT TIME ZONE 'UTC';
    part TEXT := 'fact_' || to_char(month, 'YYYY_MM');
BEGIN
    IF to_regclass(format('"analytics".%I', part)) IS NOT NULL THEN
        RETURN FALSE;
    END IF;
    PERFORM pg_advisory_xact_lock(72707371);
    IF to_regclass(format('"analytics".%I', part)) IS NOT NULL THEN
        RETURN FALSE;
    END IF;
    EXECUTE format('CREATE TABLE "analytics".%I (LIKE "analytics"."fact" INCLUDING DEFAULTS)', part);
    EXECUTE format('WITH moved AS (DELETE FROM "analytics"."fact_default" WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *) INSERT INTO "analytics".%I SELECT * FROM moved', part) USING lo, hi;
    EXECUTE format('ALTER TABLE "analytics"."fact" ATTACH PARTITION "analytics".%I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
    RETURN TRUE;
END;
$$;

SELECT "analytics"."ensure_fact_partition"((date_trunc('month', now()) + make_interval(months => m))::date)
FROM generate_series(-3, 3) AS m;

INSERT INTO "analytics"."fact" ("id", "workspace_id", "subject", "contact_id", "actor", "occurred_at", "data", "received_at")
SELECT "id", "workspace_id", "subject", "contact_id", "contact_id"::text, "occurred_at", "data", "received_at" FROM "analytics"."fact_unpartitioned"
ON CONFLICT DO NOTHING;
DROP TABLE "analytics"."fact_unpartitioned";

-- CreateTable
CREATE TABLE "analytics"."journey_instance" (
    "workspace_id" UUID NOT NULL,
    "instance_id" UUID NOT NULL,
    "journey_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "entered_at" TIMESTAMPTZ(6),
    "variant" TEXT,
    "goal_at" TIMESTAMPTZ(6),
    "exited_at" TIMESTAMPTZ(6),

    CONSTRAINT "journey_instance_pkey" PRIMARY KEY ("workspace_id","instance_id")
);

-- CreateIndex
CREATE INDEX "journey_instance_workspace_id_journey_id_idx" ON "analytics"."journey_instance"("workspace_id", "journey_id");

-- CreateIndex
CREATE INDEX "journey_instance_workspace_id_contact_id_idx" ON "analytics"."journey_instance"("workspace_id", "contact_id");
