import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../src/http/markdown.js';

describe('renderMarkdown', () => {
  it('renders lessons: headings, lists, tables, images and safe external links', () => {
    const html = renderMarkdown('# Title\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![chart](https://example.com/c.png)\n\n[video](https://example.com/v)');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<li>one</li>');
    expect(html).toContain('<table>');
    expect(html).toContain('<img src="https://example.com/c.png" alt="chart" loading="lazy">');
    expect(html).toContain('<a href="https://example.com/v" target="_blank" rel="noopener noreferrer">video</a>');
  });

  it.each([
    ['<script>alert(1)</script>', '<script>'],
    ['<img src=x onerror=alert(1)>', '<img src=x'],
    ['[click](javascript:alert(1))', 'href="javascript:'],
    ['[click](JAVASCRIPT:alert(1))', 'href="JAVASCRIPT:'],
    ['[x](data:text/html;base64,PHNjcmlwdD4=)', 'href="data:'],
    ['![x](javascript:alert(1))', 'src="javascript:'],
    ['<a href="https://e.x" onclick="steal()">x</a>', 'onclick="'],
  ])('neutralises %s', (payload, forbidden) => {
    expect(renderMarkdown(payload)).not.toContain(forbidden);
  });
});
