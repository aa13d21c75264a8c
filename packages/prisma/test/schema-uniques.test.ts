import { expect, test } from 'vitest'
import { parseUniques } from '../src/schema-uniques.js'

test('reads @id, @unique, @@id and @@unique from schema text, and nothing from comments, strings or indexes', () => {
  const uniques = parseUniques(`
// model Commented { a Int @id }
model Post {
  id    Int    @id @default(autoincrement())
  title String @default("@id // not a comment")
  slug  String @unique(map: "post_slug") /// a doc comment with @id
  a     Int
  b     Int
  c     Int

  @@unique([a, b(sort: Desc)])
  @@unique(fields: [c, a], name: "ca")
  @@index([b])
}

enum Role {
  USER
}

model Doc {
  key   String @id
  body  String @default("{\\"x\\": \\"}\\"}")
  other String @unique
}

model Line {
  orderId Int
  line    Int
  @@id([orderId, line])
}
`)
  expect([...uniques]).toEqual([
    ['Post', [['id'], ['slug'], ['a', 'b'], ['a', 'c']]],
    ['Doc', [['key'], ['other']]],
    ['Line', [['line', 'orderId']]],
  ])
})
