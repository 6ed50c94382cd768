-- AlterTable
ALTER TABLE "oauth_states" ADD COLUMN     "binding_hash" TEXT;
