// Model output is untrusted: Markdown is rendered by marked and every bit of HTML it yields goes through
// DOMPurify before it touches the page (no script, no event handlers, no javascript: links, no forms or frames).
// Both libraries are WebJars the gateway serves: no build step, no CDN.
// (plain paths, not an import map: the page's Content-Security-Policy allows no inline script)
import { marked } from '/webjars/marked/lib/marked.esm.js';
import DOMPurify from '/webjars/dompurify/dist/purify.es.mjs';

marked.setOptions({ gfm: true, breaks: true });

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  // an image the model sent without words still needs a name
  if (node.tagName === 'IMG' && !node.getAttribute('alt')) node.setAttribute('alt', 'Image from the answer');
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  }
});

const PURIFY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed', 'svg', 'math'],
  FORBID_ATTR: ['style', 'id', 'class'],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#)/i,
};

// Renders Markdown into the element, sanitized, and gives each code block a copy button.
export function renderMarkdown(element, text) {
  element.innerHTML = DOMPurify.sanitize(marked.parse(text ?? ''), PURIFY);
  element.querySelectorAll('pre').forEach((pre) => {
    const copy = document.createElement('button');
    copy.type = 'button';
    copy.className = 'copy';
    copy.textContent = 'Copy';
    copy.setAttribute('aria-label', 'Copy code');
    copy.addEventListener('click', async () => {
      const code = pre.querySelector('code')?.textContent ?? pre.textContent;
      try {
        await navigator.clipboard.writeText(code);
        copy.textContent = 'Copied';
      } catch {
        copy.textContent = 'Copy failed';
      }
      setTimeout(() => { copy.textContent = 'Copy'; }, 1500);
    });
    pre.prepend(copy);
  });
}
