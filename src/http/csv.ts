/**
 * CSV for spreadsheets: RFC 4180 quoting, and cells that a spreadsheet would run as a formula
 * (starting with = + - @ or a tab) are prefixed with ' so an exported name cannot become a command.
 */
function cell(value: unknown): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return csvLines([header, ...rows]);
}

/** Rows without a header: the next part of a CSV written a batch at a time. */
export function csvLines(rows: unknown[][]): string {
  return rows.map((r) => r.map(cell).join(',') + '\r\n').join('');
}
