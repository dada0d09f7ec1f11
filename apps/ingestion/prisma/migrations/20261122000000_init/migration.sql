-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "ingestion";

-- CreateTable
CREATE TABLE "ingestion"."source" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "write_key_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "source_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ingestion"."outbox" (
    "id" UUID NOT NULL,
    "subject" TEXT NOT NULL,
    "envelope" JSONB NOT NULL,
    "headers" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "source_write_key_hash_key" ON "ingestion"."source"("write_key_hash");

-- CreateIndex
CREATE INDEX "source_workspace_id_idx" ON "ingestion"."source"("workspace_id");

-- CreateIndex
CREATE INDEX "outbox_created_at_idx" ON "ingestion"."outbox"("created_at");

-- Outbox wake-up (hand-written; Prisma does not model triggers): one payload-free NOTIFY per
-- inserting statement, delivered at commit, so the relay LISTENing on "ingestion_outbox" reads the
-- table at once instead of waiting for its next poll.
CREATE FUNCTION "ingestion"."outbox_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ingestion_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER "outbox_notify" AFTER INSERT ON "ingestion"."outbox"
    FOR EACH STATEMENT EXECUTE FUNCTION "ingestion"."outbox_notify"();
