-- AlterTable
ALTER TABLE "signing_keys" ADD COLUMN     "withdrawn_at" TIMESTAMPTZ(3);

-- A retired key signs nothing any more: its private half has no reason to be kept.
UPDATE "signing_keys" SET "private_pem" = NULL WHERE "retired_at" IS NOT NULL;
