-- The tables of prisma/schema.prisma, created in a schema of the bench's own (see cases/prisma.ts).
CREATE TABLE "Order" (
  "id" SERIAL PRIMARY KEY,
  "status" TEXT NOT NULL DEFAULT 'new',
  "total" INTEGER NOT NULL DEFAULT 0,
  "lockFence" BIGINT NOT NULL DEFAULT 0
);
