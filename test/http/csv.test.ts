import { describe, expect, it } from 'vitest';
import { toCsv } from '../../src/http/csv.js';

describe('toCsv', () => {
  it('quotes what needs quoting and keeps numbers as they are', () => {
    expect(toCsv(['a', 'b'], [['x, y', 'say "hi"'], [-1.5, null], ['line\nbreak', 42]])).toBe('a,b\r\n"x, y","say ""hi"""\r\n-1.5,\r\n"line\nbreak",42\r\n');
  });
  it('defuses spreadsheet formulas', () => {
    expect(toCsv(['name'], [['=HYPERLINK("http://evil")'], ['+1'], ['@SUM(A1)']])).toBe(`name\r\n"'=HYPERLINK(""http://evil"")"\r\n'+1\r\n'@SUM(A1)\r\n`);
  });
});
