-- CreateTable
CREATE TABLE "security_events" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "type" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "user_id" UUID,
    "session_id" UUID,
    "ip" TEXT,
    "user_agent" TEXT,
    "details" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "security_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "security_events_user_id_created_at_id_idx" ON "security_events"("user_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "security_events_created_at_id_idx" ON "security_events"("created_at", "id");

-- CreateIndex
CREATE INDEX "security_events_type_created_at_id_idx" ON "security_events"("type", "created_at", "id");
