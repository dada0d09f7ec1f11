-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "crm";

-- CreateTable
CREATE TABLE "crm"."workspace" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "is_default" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workspace_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "crm"."api_key" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "scopes" TEXT[],
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(6),

    CONSTRAINT "api_key_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "crm"."contact" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "external_id" TEXT,
    "email" TEXT,
    "phone" TEXT,
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "contact_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "crm"."outbox" (
    "id" UUID NOT NULL,
    "subject" TEXT NOT NULL,
    "envelope" JSONB NOT NULL,
    "headers" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_key_key_hash_key" ON "crm"."api_key"("key_hash");

-- CreateIndex
CREATE INDEX "api_key_workspace_id_idx" ON "crm"."api_key"("workspace_id");

-- CreateIndex
CREATE UNIQUE INDEX "contact_workspace_id_external_id_key" ON "crm"."contact"("workspace_id", "external_id");

-- CreateIndex
CREATE UNIQUE INDEX "contact_workspace_id_email_key" ON "crm"."contact"("workspace_id", "email");

-- CreateIndex
CREATE INDEX "outbox_created_at_idx" ON "crm"."outbox"("created_at");

-- AddForeignKey
ALTER TABLE "crm"."api_key" ADD CONSTRAINT "api_key_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "crm"."workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "crm"."contact" ADD CONSTRAINT "contact_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "crm"."workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Outbox wake-up (hand-written; Prisma does not model triggers): one payload-free NOTIFY per
-- inserting statement, delivered at commit, so the relay LISTENing on "crm_outbox" reads the
-- table at once instead of waiting for its next poll.
CREATE FUNCTION "crm"."outbox_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('crm_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER "outbox_notify" AFTER INSERT ON "crm"."outbox"
    FOR EACH STATEMENT EXECUTE FUNCTION "crm"."outbox_notify"();
