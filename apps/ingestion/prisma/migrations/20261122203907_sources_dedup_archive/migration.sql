-- AlterTable
ALTER TABLE "source" ADD COLUMN     "allowed_origins" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "kind" TEXT NOT NULL DEFAULT 'tracking',
ADD COLUMN     "previous_write_key_expires_at" TIMESTAMPTZ(6),
ADD COLUMN     "previous_write_key_hash" TEXT,
ADD COLUMN     "provider" TEXT,
ADD COLUMN     "settings" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "signing_secret" TEXT,
ADD COLUMN     "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateTable
CREATE TABLE "received_message" (
    "source_id" UUID NOT NULL,
    "message_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "received_message_pkey" PRIMARY KEY ("source_id","message_id")
);

-- CreateTable
CREATE TABLE "event_archive" (
    "id" UUID NOT NULL,
    "received_at" TIMESTAMPTZ(6) NOT NULL,
    "workspace_id" UUID NOT NULL,
    "source_id" UUID NOT NULL,
    "subject" TEXT NOT NULL,
    "user_id" TEXT,
    "anonymous_id" TEXT,
    "envelope" JSONB NOT NULL,

    CONSTRAINT "event_archive_pkey" PRIMARY KEY ("id","received_at")
);

-- CreateIndex
CREATE INDEX "received_message_created_at_idx" ON "received_message"("created_at");

-- CreateIndex
CREATE INDEX "event_archive_workspace_id_user_id_received_at_idx" ON "event_archive"("workspace_id", "user_id", "received_at");

-- CreateIndex
CREATE INDEX "event_archive_workspace_id_anonymous_id_received_at_idx" ON "event_archive"("workspace_id", "anonymous_id", "received_at");

-- CreateIndex
CREATE INDEX "event_archive_received_at_idx" ON "event_archive"("received_at");

-- CreateIndex
CREATE UNIQUE INDEX "source_previous_write_key_hash_key" ON "source"("previous_write_key_hash");

-- Hand-written: the archive is range-partitioned by received day (Prisma does not model
-- partitioning). Same columns, key and index names as generated above, so the datamodel agrees.
DROP TABLE "event_archive";

CREATE TABLE "event_archive" (
    "id" UUID NOT NULL,
    "received_at" TIMESTAMPTZ(6) NOT NULL,
    "workspace_id" UUID NOT NULL,
    "source_id" UUID NOT NULL,
    "subject" TEXT NOT NULL,
    "user_id" TEXT,
    "anonymous_id" TEXT,
    "envelope" JSONB NOT NULL,

    CONSTRAINT "event_archive_pkey" PRIMARY KEY ("id","received_at")
) PARTITION BY RANGE ("received_at");

CREATE INDEX "event_archive_workspace_id_user_id_received_at_idx" ON "event_archive"("workspace_id", "user_id", "received_at");
CREATE INDEX "event_archive_workspace_id_anonymous_id_received_at_idx" ON "event_archive"("workspace_id", "anonymous_id", "received_at");
CREATE INDEX "event_archive_received_at_idx" ON "event_archive"("received_at");

-- One partition per UTC day, named event_archive_pYYYYMMDD; idempotent, so the service's
-- maintenance routine calls it at start and hourly to stay `days_ahead` days ahead.
CREATE FUNCTION "ensure_archive_partitions"(days_back int, days_ahead int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    day date;
    created int := 0;
    part text;
BEGIN
    FOR day IN SELECT generate_series((now() AT TIME ZONE 'UTC')::date - days_back, (now() AT TIME ZONE 'UTC')::date + days_ahead, interval '1 day')::date LOOP
        part := 'event_archive_p' || to_char(day, 'YYYYMMDD');
        IF to_regclass(quote_ident(current_schema()) || '.' || part) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF event_archive FOR VALUES FROM (%L) TO (%L)', part, (day::timestamp AT TIME ZONE 'UTC'), ((day + 1)::timestamp AT TIME ZONE 'UTC'));
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END;
$$;

SELECT "ensure_archive_partitions"(1, 7);
