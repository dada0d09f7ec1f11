-- CreateTable
CREATE TABLE "journey" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'draft',
    "draft" JSONB NOT NULL,
    "current_version" INTEGER,
    "paused_reason" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "journey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "journey_version" (
    "journey_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "workspace_id" UUID NOT NULL,
    "definition" JSONB NOT NULL,
    "published_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "journey_version_pkey" PRIMARY KEY ("journey_id","version")
);

-- CreateTable
CREATE TABLE "instance" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "journey_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "contact_id" UUID NOT NULL,
    "entry_key" TEXT NOT NULL DEFAULT '',
    "status" TEXT NOT NULL,
    "current_node" TEXT,
    "state" JSONB NOT NULL,
    "seq" INTEGER NOT NULL DEFAULT 0,
    "exit_reason" TEXT,
    "entered_at" TIMESTAMPTZ(6) NOT NULL,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ended_at" TIMESTAMPTZ(6),

    CONSTRAINT "instance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "instance_step" (
    "id" BIGSERIAL NOT NULL,
    "instance_id" UUID NOT NULL,
    "journey_id" UUID NOT NULL,
    "node_id" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "reason" TEXT,
    "at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "instance_step_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "timer" (
    "id" BIGSERIAL NOT NULL,
    "workspace_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "instance_id" UUID,
    "token" TEXT,
    "journey_id" UUID,
    "contact_id" UUID,
    "campaign_id" UUID,
    "due_at" TIMESTAMPTZ(6) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "timer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "contact" (
    "workspace_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "external_id" TEXT,
    "timezone" TEXT,
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "consent" JSONB NOT NULL DEFAULT '{}',
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "contact_pkey" PRIMARY KEY ("workspace_id","contact_id")
);

-- CreateTable
CREATE TABLE "segment_member" (
    "workspace_id" UUID NOT NULL,
    "segment_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "since" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "segment_member_pkey" PRIMARY KEY ("workspace_id","segment_id","contact_id")
);

-- CreateTable
CREATE TABLE "send_log" (
    "id" BIGSERIAL NOT NULL,
    "workspace_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "channel" TEXT NOT NULL,
    "journey_id" UUID,
    "sent_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "send_log_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workspace_settings" (
    "workspace_id" UUID NOT NULL,
    "quiet_hours" JSONB,
    "frequency_caps" JSONB NOT NULL DEFAULT '[]',
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workspace_settings_pkey" PRIMARY KEY ("workspace_id")
);

-- CreateTable
CREATE TABLE "campaign" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "segment_id" UUID NOT NULL,
    "action" JSONB NOT NULL,
    "scheduled_at" TIMESTAMPTZ(6) NOT NULL,
    "local_time" BOOLEAN NOT NULL DEFAULT false,
    "rate_per_second" INTEGER NOT NULL DEFAULT 100,
    "status" TEXT NOT NULL DEFAULT 'scheduled',
    "audience" INTEGER NOT NULL DEFAULT 0,
    "requested" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "campaign_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "journey_workspace_id_status_idx" ON "journey"("workspace_id", "status");

-- CreateIndex
CREATE INDEX "instance_workspace_id_contact_id_status_idx" ON "instance"("workspace_id", "contact_id", "status");

-- CreateIndex
CREATE INDEX "instance_journey_id_contact_id_idx" ON "instance"("journey_id", "contact_id");

-- CreateIndex
CREATE INDEX "instance_journey_id_status_current_node_idx" ON "instance"("journey_id", "status", "current_node");

-- CreateIndex
CREATE INDEX "instance_step_instance_id_id_idx" ON "instance_step"("instance_id", "id");

-- CreateIndex
CREATE INDEX "instance_step_journey_id_node_id_idx" ON "instance_step"("journey_id", "node_id");

-- CreateIndex
CREATE INDEX "timer_due_at_idx" ON "timer"("due_at");

-- CreateIndex
CREATE INDEX "timer_instance_id_idx" ON "timer"("instance_id");

-- CreateIndex
CREATE INDEX "contact_workspace_id_external_id_idx" ON "contact"("workspace_id", "external_id");

-- CreateIndex
CREATE INDEX "segment_member_workspace_id_contact_id_idx" ON "segment_member"("workspace_id", "contact_id");

-- CreateIndex
CREATE INDEX "send_log_workspace_id_contact_id_sent_at_idx" ON "send_log"("workspace_id", "contact_id", "sent_at");

-- CreateIndex
CREATE INDEX "campaign_workspace_id_idx" ON "campaign"("workspace_id");

-- Hand-written (Prisma does not model partial indexes): at most one active instance per journey,
-- contact and entry key, so "once at a time" holds even when replicas race on the same trigger.
CREATE UNIQUE INDEX "instance_one_active_idx" ON "journeys"."instance"("journey_id", "contact_id", "entry_key") WHERE "status" = 'active';
