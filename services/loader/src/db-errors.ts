// Which database failures are worth retrying. Decided by error class and code (PostgreSQL SQLSTATE, SQL Server error
// number, Node system error code), never by message text. Anything not known to be permanent is treated as transient:
// it is retried with backoff and dead-lettered only once attempts are exhausted (pg reports a dropped connection as a
// plain Error without a code, so "unknown" must mean "retry").
import { PermanentError, TransientError } from '@playledger/common';

export type DbErrorKind = 'transient' | 'permanent';

/** SQLSTATEs and classes that clear up by themselves: connection lost, deadlock, serialization, overload, restart. */
export const TRANSIENT_SQLSTATES: readonly string[] = [
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57014', // query_canceled (statement_timeout)
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '53300', // too_many_connections
];
/** class 08 = connection exception, class 53 = insufficient resources */
export const TRANSIENT_SQLSTATE_CLASSES: readonly string[] = ['08', '53'];
/** class 22 = data exception, class 23 = integrity constraint violation: the same batch fails the same way again */
export const PERMANENT_SQLSTATE_CLASSES: readonly string[] = ['22', '23'];

/** SQL Server: 1205 deadlock victim, -2 timeout, 1222 lock timeout, Azure SQL throttling and failover numbers. */
export const TRANSIENT_MSSQL_NUMBERS: readonly number[] = [
  1205, -2, 1222, 40197, 40501, 40613, 49918, 49919, 49920, 4060, 233, 10053, 10054, 10060,
];
/** SQL Server: conversion, truncation, constraint and key violations. */
export const PERMANENT_MSSQL_NUMBERS: readonly number[] = [245, 515, 547, 2601, 2627, 2628, 8115, 8152];

/** Node and driver connection codes (pg, mssql/tedious). */
export const TRANSIENT_CODES: readonly string[] = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ESOCKET',
  'ECONNCLOSED',
  'ETIMEOUT',
  'ENOTOPEN',
];

const SQLSTATE = /^[0-9A-Z]{5}$/;

function classifyOne(error: unknown): DbErrorKind | null {
  if (error instanceof PermanentError) return 'permanent';
  if (error instanceof TransientError) return 'transient';
  if (typeof error !== 'object' || error === null) return null;
  const { code, number } = error as { code?: unknown; number?: unknown };
  if (typeof number === 'number') {
    if (TRANSIENT_MSSQL_NUMBERS.includes(number)) return 'transient';
    if (PERMANENT_MSSQL_NUMBERS.includes(number)) return 'permanent';
  }
  if (typeof code === 'string') {
    if (TRANSIENT_CODES.includes(code)) return 'transient';
    if (SQLSTATE.test(code)) {
      if (TRANSIENT_SQLSTATES.includes(code) || TRANSIENT_SQLSTATE_CLASSES.includes(code.slice(0, 2)))
        return 'transient';
      if (PERMANENT_SQLSTATE_CLASSES.includes(code.slice(0, 2))) return 'permanent';
    }
  }
  return null;
}

/** Looks through `cause` chains and AggregateErrors (a connection attempt to several addresses) for a known kind. */
export function classifyDbError(error: unknown, depth = 0): DbErrorKind {
  const own = classifyOne(error);
  if (own) return own;
  if (depth < 5 && typeof error === 'object' && error !== null) {
    const nested: unknown[] = [];
    if ('cause' in error) nested.push(error.cause);
    if (error instanceof AggregateError) nested.push(...(error.errors as unknown[]));
    if ('originalError' in error) nested.push(error.originalError); // mssql wraps tedious errors
    for (const inner of nested) {
      if (inner !== undefined && classifyDbError(inner, depth + 1) === 'permanent') return 'permanent';
    }
  }
  return 'transient';
}
