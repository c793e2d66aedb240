#!/usr/bin/env node
// Exits 0 when the PostgreSQL at TEST_DATABASE_URL answers a query, 1 otherwise.
import pg from 'pg';

const client = new pg.Client({
  connectionString: process.env.TEST_DATABASE_URL,
  connectionTimeoutMillis: 2000,
});
try {
  await client.connect();
  await client.query('select 1');
  await client.end();
  process.exit(0);
} catch {
  process.exit(1);
}
