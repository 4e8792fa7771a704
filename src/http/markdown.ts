import MarkdownIt from 'markdown-it';

/**
 * Lessons are Markdown written by trainers. Raw HTML is not allowed (it is shown as text), links
 * may only be http(s), mailto or relative, and external links open safely — so a lesson cannot
 * run script in a rep's browser even if a content file is hostile.
 */
const md = new MarkdownIt({ html: false, linkify: true, typographer: true });

const SAFE_URL = /^(https?:|mailto:|\/|#|\.\.?\/)/i;
md.validateLink = (url: string) => SAFE_URL.test(url.trim()) || !/^[a-z][a-z0-9+.-]*:/i.test(url.trim());

const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const href = String(tokens[idx]!.attrGet('href') ?? '');
  if (/^https?:/i.test(href)) {
    tokens[idx]!.attrSet('target', '_blank');
    tokens[idx]!.attrSet('rel', 'noopener noreferrer');
  }
  return defaultLinkOpen(tokens, idx, options, env, self);
};
const defaultImage = md.renderer.rules.image!;
md.renderer.rules.image = (tokens, idx, options, env, self) => {
  tokens[idx]!.attrSet('loading', 'lazy');
  return defaultImage(tokens, idx, options, env, self);
};

export function renderMarkdown(source: string): string {
  return md.render(source);
}
