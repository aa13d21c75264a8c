-- The schema in prisma/schema.prisma, as SQL (what `prisma migrate diff` writes for it).
CREATE TABLE "Order" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "customer" TEXT NOT NULL,
    "total" INTEGER NOT NULL DEFAULT 0,
    "lockFence" BIGINT NOT NULL DEFAULT 0
);
