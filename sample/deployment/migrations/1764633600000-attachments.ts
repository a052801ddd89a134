import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Attachments1764633600000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    // The library's two tables (attachmentEntities): token claims and the work outbox.
    await queryRunner.query(
      `CREATE TABLE "attachment_claims" ("fileKey" character varying(64) NOT NULL, "fileId" character varying(1024) NOT NULL, "claimedAt" bigint NOT NULL, "expiresAt" bigint NOT NULL, CONSTRAINT "PK_e8a03cd01f49635f4902d70d81c" PRIMARY KEY ("fileKey"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_96bbf179378d48dffe544e6ca0" ON "attachment_claims" ("expiresAt")`,
    );
    await queryRunner.query(
      `CREATE TABLE "attachment_work" ("id" character varying(64) NOT NULL, "kind" character varying(16) NOT NULL, "entity" character varying(255), "recordId" character varying(512), "cachedFileId" character varying(255), "payload" text NOT NULL, "status" character varying(16) NOT NULL DEFAULT 'pending', "attempts" integer NOT NULL DEFAULT '0', "lastError" text, "createdAt" bigint NOT NULL, "availableAt" bigint NOT NULL, "relayAt" bigint NOT NULL, "failedAt" bigint, CONSTRAINT "PK_bf80dbfd9606afefe39259e440c" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_720f3ad34506e2ab5ddc163045" ON "attachment_work" ("cachedFileId")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_5e0c42b7fb62d1e76ec9fe4621" ON "attachment_work" ("entity", "recordId")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_03513fad5ad28365bd20c67765" ON "attachment_work" ("status", "relayAt")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_78b6747a73a2c54d83b18eabef" ON "attachment_work" ("status", "failedAt", "id")`,
    );
    // The attachment column of @Attachment() on Photo.image: nullable jsonb.
    await queryRunner.query(`ALTER TABLE "photo" ADD "image" jsonb`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "photo" DROP COLUMN "image"`);
    await queryRunner.query(`DROP TABLE "attachment_work"`);
    await queryRunner.query(`DROP TABLE "attachment_claims"`);
  }
}
