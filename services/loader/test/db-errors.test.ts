import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '@playledger/common';
import { classifyDbError } from '../src/index.ts';

const withCode = (code: string) => Object.assign(new Error('whatever the text says'), { code });

describe('classifyDbError', () => {
  it.each(['08006', '08001', '40001', '40P01', '57P01', '57P03', '53300', '55P03', '57014'])(
    'pg %s is transient',
    (code) => {
      expect(classifyDbError(withCode(code))).toBe('transient');
    },
  );

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ESOCKET', 'ETIMEOUT'])('%s is transient', (code) => {
    expect(classifyDbError(withCode(code))).toBe('transient');
  });

  it.each(['23505', '23503', '22001', '22P02'])('pg %s (data or constraint) is permanent', (code) => {
    expect(classifyDbError(withCode(code))).toBe('permanent');
  });

  it('reads SQL Server error numbers', () => {
    expect(classifyDbError(Object.assign(new Error('x'), { number: 1205 }))).toBe('transient');
    expect(classifyDbError(Object.assign(new Error('x'), { number: 2627 }))).toBe('permanent');
    expect(classifyDbError(Object.assign(new Error('x'), { code: 'EREQUEST', originalError: { number: 8152 } }))).toBe(
      'permanent',
    );
  });

  it('follows causes and aggregate errors', () => {
    expect(classifyDbError(new Error('wrapped', { cause: withCode('23505') }))).toBe('permanent');
    expect(classifyDbError(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]))).toBe('transient');
  });

  it('honours the typed errors and treats anything unknown as transient, whatever its message', () => {
    expect(classifyDbError(new PermanentError('rule', 'x'))).toBe('permanent');
    expect(classifyDbError(new TransientError('duplicate key value violates unique constraint'))).toBe('transient');
    expect(classifyDbError(new Error('duplicate key value violates unique constraint'))).toBe('transient');
    expect(classifyDbError('a string')).toBe('transient');
  });
});
