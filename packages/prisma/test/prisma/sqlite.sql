-- The test models (test/prisma/models.prisma) on SQLite, as `prisma migrate diff` would write them.
CREATE TABLE "Order" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "status" TEXT NOT NULL DEFAULT 'new',
    "total" INTEGER NOT NULL DEFAULT 0,
    "note" TEXT,
    "lockFence" BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE "OrderItem" (
    "orderId" INTEGER NOT NULL,
    "line" INTEGER NOT NULL,
    "qty" INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY ("orderId", "line"),
    CONSTRAINT "OrderItem_orderId_fkey" FOREIGN KEY ("orderId") REFERENCES "Order" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

CREATE TABLE "Product" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "sku" TEXT NOT NULL,
    "stock" INTEGER NOT NULL,
    "lockFence" INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX "Product_sku_key" ON "Product"("sku");

CREATE TABLE "User" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL
);
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

CREATE TABLE "Account" (
    "code" TEXT NOT NULL PRIMARY KEY,
    "balance" INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE "Transfer" (
    "id" BIGINT NOT NULL PRIMARY KEY,
    "ref" BLOB NOT NULL,
    "amount" INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX "Transfer_ref_key" ON "Transfer"("ref");
