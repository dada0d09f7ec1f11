-- AlterTable
ALTER TABLE "contact" ADD COLUMN     "attr_updated_at" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "erased_at" TIMESTAMPTZ(6),
ADD COLUMN     "locale" TEXT,
ADD COLUMN     "merged_into" UUID,
ADD COLUMN     "timezone" TEXT,
ADD COLUMN     "version" BIGINT NOT NULL DEFAULT 1;

-- CreateTable
CREATE TABLE "contact_identity" (
    "workspace_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "contact_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "contact_identity_pkey" PRIMARY KEY ("workspace_id","kind","value")
);

-- CreateTable
CREATE TABLE "processed_event" (
    "id" UUID NOT NULL,
    "processed_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "processed_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "crm_settings" (
    "workspace_id" UUID NOT NULL,
    "unknown_attributes" TEXT NOT NULL DEFAULT 'create',
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "crm_settings_pkey" PRIMARY KEY ("workspace_id")
);

-- CreateTable
CREATE TABLE "attribute_definition" (
    "workspace_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "inferred" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "attribute_definition_pkey" PRIMARY KEY ("workspace_id","name")
);

-- CreateTable
CREATE TABLE "contact_tag" (
    "workspace_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "tag" TEXT NOT NULL,
    "added_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "contact_tag_pkey" PRIMARY KEY ("contact_id","tag")
);

-- CreateTable
CREATE TABLE "contact_list" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "contact_list_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "list_member" (
    "list_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "added_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "list_member_pkey" PRIMARY KEY ("list_id","contact_id")
);

-- CreateTable
CREATE TABLE "consent" (
    "workspace_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "channel" TEXT NOT NULL,
    "group_name" TEXT NOT NULL DEFAULT '',
    "state" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "changed_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "consent_pkey" PRIMARY KEY ("contact_id","channel","group_name")
);

-- CreateTable
CREATE TABLE "consent_history" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "channel" TEXT NOT NULL,
    "group_name" TEXT NOT NULL DEFAULT '',
    "state" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "changed_at" TIMESTAMPTZ(6) NOT NULL,
    "recorded_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "consent_history_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "object_type" (
    "workspace_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "fields" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "object_type_pkey" PRIMARY KEY ("workspace_id","name")
);

-- CreateTable
CREATE TABLE "object_record" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "contact_id" UUID,
    "data" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "object_record_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "import_job" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "format" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "rows_done" INTEGER NOT NULL DEFAULT 0,
    "rows_failed" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(6),

    CONSTRAINT "import_job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "import_error" (
    "import_id" UUID NOT NULL,
    "line" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,

    CONSTRAINT "import_error_pkey" PRIMARY KEY ("import_id","line")
);

-- CreateIndex
CREATE INDEX "contact_identity_contact_id_idx" ON "contact_identity"("contact_id");

-- CreateIndex
CREATE INDEX "processed_event_processed_at_idx" ON "processed_event"("processed_at");

-- CreateIndex
CREATE INDEX "contact_tag_workspace_id_tag_idx" ON "contact_tag"("workspace_id", "tag");

-- CreateIndex
CREATE UNIQUE INDEX "contact_list_workspace_id_name_key" ON "contact_list"("workspace_id", "name");

-- CreateIndex
CREATE INDEX "list_member_contact_id_idx" ON "list_member"("contact_id");

-- CreateIndex
CREATE INDEX "consent_history_contact_id_changed_at_idx" ON "consent_history"("contact_id", "changed_at");

-- CreateIndex
CREATE INDEX "object_record_workspace_id_type_idx" ON "object_record"("workspace_id", "type");

-- CreateIndex
CREATE INDEX "object_record_contact_id_idx" ON "object_record"("contact_id");

-- CreateIndex
CREATE INDEX "import_job_workspace_id_idx" ON "import_job"("workspace_id");

-- CreateIndex
CREATE INDEX "contact_workspace_id_phone_idx" ON "contact"("workspace_id", "phone");

-- CreateIndex
CREATE INDEX "contact_workspace_id_updated_at_idx" ON "contact"("workspace_id", "updated_at");
