-- CreateTable
CREATE TABLE "unresolved_event" (
    "workspace_id" UUID NOT NULL,
    "user_id" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "properties" JSONB NOT NULL,
    "at" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "unresolved_event_pkey" PRIMARY KEY ("workspace_id","user_id","event_id")
);

-- CreateIndex
CREATE INDEX "unresolved_event_received_at_idx" ON "unresolved_event"("received_at");
