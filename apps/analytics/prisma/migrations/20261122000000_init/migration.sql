-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "analytics";

-- CreateTable
CREATE TABLE "analytics"."fact" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "subject" TEXT NOT NULL,
    "contact_id" UUID,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL,
    "data" JSONB NOT NULL,
    "received_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "fact_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "analytics"."outbox" (
    "id" UUID NOT NULL,
    "subject" TEXT NOT NULL,
    "envelope" JSONB NOT NULL,
    "headers" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "fact_workspace_id_occurred_at_idx" ON "analytics"."fact"("workspace_id", "occurred_at");

-- CreateIndex
CREATE INDEX "outbox_created_at_idx" ON "analytics"."outbox"("created_at");

-- Outbox wake-up (hand-written; Prisma does not model triggers): one payload-free NOTIFY per
-- inserting statement, delivered at commit, so the relay LISTENing on "analytics_outbox" reads
-- the table at once instead of waiting for its next poll.
CREATE FUNCTION "analytics"."outbox_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('analytics_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER "outbox_notify" AFTER INSERT ON "analytics"."outbox"
    FOR EACH STATEMENT EXECUTE FUNCTION "analytics"."outbox_notify"();
