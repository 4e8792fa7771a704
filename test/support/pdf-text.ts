/**
 * Reading PDFs back in tests. pdfjs-dist (Mozilla's PDF.js, the legacy build for Node) is the
 * maintained, standard PDF parser: a pure-JS npm package that installs offline from the registry
 * with no browser or system library, gives each text item with its position (for the overflow
 * check) and the link annotations. unpdf is a thinner wrapper around a bundled copy of the same
 * code; going to the source keeps one dependency and its own types. Rendering a page to PNG uses
 * @napi-rs/canvas, which pdfjs-dist installs as an optional dependency (a prebuilt binary inside
 * the npm package): when it is missing, renderPageToPng answers null.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';

export interface PdfTextItem {
  str: string;
  x: number;
  y: number;
  width: number;
}
export interface PdfPage {
  text: string;
  items: PdfTextItem[];
  width: number;
  height: number;
  links: string[];
}

const fontsDir = join(dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json')), 'standard_fonts') + '/';

function open(pdf: Buffer) {
  return getDocument({ data: new Uint8Array(pdf), verbosity: 0, isEvalSupported: false, standardFontDataUrl: fontsDir }).promise;
}

export async function readPdf(pdf: Buffer): Promise<PdfPage[]> {
  const doc = await open(pdf);
  const pages: PdfPage[] = [];
  for (let n = 1; n <= doc.numPages; n++) {
    const page = await doc.getPage(n);
    const content = await page.getTextContent();
    const items: PdfTextItem[] = [];
    let text = '';
    for (const it of content.items) {
      if (!('str' in it)) continue;
      items.push({ str: it.str, x: it.transform[4] as number, y: it.transform[5] as number, width: it.width });
      text += it.str + (it.hasEOL ? '\n' : '');
    }
    const annotations = (await page.getAnnotations()) as { subtype: string; url?: string }[];
    const [, , width, height] = page.view as [number, number, number, number];
    pages.push({ text, items, width, height, links: annotations.filter((a) => a.subtype === 'Link' && a.url).map((a) => a.url!) });
  }
  await doc.destroy();
  return pages;
}

/** Page `n` (from 1) as a PNG, or null without a canvas implementation. */
export async function renderPageToPng(pdf: Buffer, n: number, scale = 1.5): Promise<Buffer | null> {
  try {
    await import('@napi-rs/canvas');
  } catch {
    return null;
  }
  const doc = await open(pdf);
  const page = await doc.getPage(n);
  const viewport = page.getViewport({ scale });
  const factory = (doc as unknown as { canvasFactory: { create(w: number, h: number): { canvas: { toBuffer(t: string): Buffer }; context: unknown } } }).canvasFactory;
  const { canvas, context } = factory.create(Math.ceil(viewport.width), Math.ceil(viewport.height));
  await page.render({ canvasContext: context, viewport, canvas } as never).promise;
  const png = canvas.toBuffer('image/png');
  await doc.destroy();
  return png;
}
