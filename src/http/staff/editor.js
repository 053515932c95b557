// The body editor of the Mass Communicator: Quill (vendored in assets/quill, loaded only when
// a letter is composed) with bold, italic, links, headings, lists and images by URL; special
// fields as atomic pieces; and an "HTML source" view, the plain text area, for those who
// want it. The text area always holds the body's HTML: it is what the form saves and the
// preview shows. The server's sanitiser stays the authority over what a letter may contain.

import { dialog, field, h } from './ui.js';

const FIELD = /\{\{\s*[a-z_]+\s*\}\}/g;

let loading = null;

/** Loads Quill and its stylesheet once; resolves with the Quill class. */
function loadQuill() {
  if (window.Quill) return Promise.resolve(window.Quill);
  loading ||= new Promise((resolve, reject) => {
    document.head.append(h('link', { rel: 'stylesheet', href: '/staff/quill.snow.css' }));
    const script = h('script', { src: '/staff/quill.js' });
    script.addEventListener('load', () => { register(window.Quill); resolve(window.Quill); });
    script.addEventListener('error', () => { loading = null; reject(new Error('The editor could not be loaded.')); });
    document.head.append(script);
  });
  return loading;
}

// A special field is one piece: the cursor moves over it, Backspace removes it whole, and
// it is written back into the HTML as its `{{token}}` text.
function register(Quill) {
  const Embed = Quill.import('blots/embed');
  class MergeField extends Embed {
    static create(token) {
      const node = super.create();
      node.dataset.token = token;
      node.textContent = token;
      return node;
    }

    static value(node) {
      return node.dataset.token;
    }

    html() {
      return this.domNode.dataset.token;
    }
  }
  MergeField.blotName = 'mergeField';
  MergeField.tagName = 'span';
  MergeField.className = 'merge-field';
  Quill.register(MergeField);
}

/** `{{token}}` text in pasted or loaded HTML becomes special-field pieces. */
function fieldsAsPieces(Quill) {
  const Delta = Quill.import('delta');
  return (node, delta) => {
    const out = new Delta();
    for (const op of delta.ops) {
      if (typeof op.insert !== 'string') {
        out.push(op);
        continue;
      }
      let last = 0;
      for (const m of op.insert.matchAll(FIELD)) {
        if (m.index > last) out.insert(op.insert.slice(last, m.index), op.attributes);
        out.insert({ mergeField: m[0].replace(/\s+/g, '') }, op.attributes);
        last = m.index + m[0].length;
      }
      if (last < op.insert.length) out.insert(op.insert.slice(last), op.attributes);
    }
    return out;
  };
}

/** Asks for an image's web address; resolves with it, or null. */
function askImage() {
  return dialog('Insert an image', (close) => {
    const url = h('input', { type: 'url', id: 'image-url', placeholder: 'https://', required: true });
    const alt = h('input', { id: 'image-alt' });
    const urlField = field('Image address', url, 'An https address where the image is published, such as the association’s website.');
    const form = h('form', { novalidate: true },
      urlField, field('Description', alt, 'What it shows, for those who cannot see it.'),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', id: 'image-insert' }, 'Insert image'),
        h('button', { type: 'button', onclick: () => close(null) }, 'Cancel')));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      let ok = false;
      try { ok = new URL(url.value).protocol === 'https:'; } catch { ok = false; }
      urlField.showError(ok ? null : 'Give an address that starts with https://.');
      if (ok) close({ src: url.value, alt: alt.value.trim() });
    });
    return form;
  });
}

/**
 * The editor over `textarea`. Returns `{ element, insertField(token) }`; `element` holds the
 * toolbar, the editor and the source toggle, with the text area inside. Until Quill has
 * loaded (or if it cannot), the text area is shown and works alone.
 */
export function bodyEditor(textarea) {
  const surface = h('div', { id: 'mass-editor', class: 'editor-surface' });
  const toggle = h('button', { type: 'button', id: 'html-source', class: 'link', 'aria-pressed': 'false', hidden: true }, 'HTML source');
  const element = h('div', { class: 'editor' }, h('div', { class: 'editor-bar' }, toggle), surface, textarea);
  let quill = null;
  let source = true;

  const show = (asSource) => {
    source = asSource;
    surface.hidden = asSource;
    // Quill puts its toolbar just before the surface; formatting buttons mean nothing over
    // the source.
    const bar = element.querySelector('.ql-toolbar');
    if (bar) bar.hidden = asSource;
    textarea.hidden = !asSource;
    toggle.setAttribute('aria-pressed', String(asSource));
    toggle.textContent = asSource ? 'Back to the editor' : 'HTML source';
  };
  const load = () => {
    quill.setContents(quill.clipboard.convert({ html: textarea.value }), 'silent');
  };
  // Quill's semantic HTML writes every space as &nbsp;, which would stop lines wrapping in
  // mail; plain spaces mean the same in HTML.
  const write = () => {
    textarea.value = quill.getSemanticHTML().replaceAll('&nbsp;', ' ');
    textarea.dispatchEvent(new Event('input'));
  };

  loadQuill().then((Quill) => {
    quill = new Quill(surface, {
      theme: 'snow',
      modules: {
        toolbar: {
          container: [[{ header: [1, 2, 3, false] }], ['bold', 'italic'], ['link', 'image'], [{ list: 'ordered' }, { list: 'bullet' }], ['clean']],
          handlers: {
            image: () => {
              const at = quill.getSelection(true);
              askImage().then((img) => {
                if (!img) return;
                quill.insertEmbed(at.index, 'image', img.src, 'user');
                if (img.alt) quill.root.querySelector(`img[src="${CSS.escape(img.src)}"]`)?.setAttribute('alt', img.alt);
                quill.setSelection(at.index + 1, 0, 'user');
              });
            },
          },
        },
      },
    });
    quill.clipboard.addMatcher(Node.TEXT_NODE, fieldsAsPieces(Quill));
    quill.root.setAttribute('aria-label', 'Body');
    quill.root.id = 'mass-editor-body';
    load();
    quill.on('text-change', (delta, old, by) => { if (by !== 'silent') write(); });
    toggle.hidden = false;
    show(false);
  }).catch(() => {
    // The text area stays: the letter can still be written as HTML.
    show(true);
  });
  toggle.addEventListener('click', () => {
    if (!quill) return;
    if (source) {
      load();
      write();
      show(false);
      quill.focus();
    } else {
      show(true);
      textarea.focus();
    }
  });
  show(true);
  // A field error puts the focus on whichever view is shown.
  element.focus = () => (quill && !source ? quill.focus() : textarea.focus());

  return {
    element,
    /** Puts a special field where the cursor is, in whichever view is shown. */
    insertField(token) {
      if (quill && !source) {
        const at = quill.getSelection(true);
        quill.insertEmbed(at.index, 'mergeField', token, 'user');
        quill.setSelection(at.index + 1, 0, 'user');
        return;
      }
      const start = textarea.selectionStart ?? textarea.value.length;
      const end = textarea.selectionEnd ?? start;
      textarea.setRangeText(token, start, end, 'end');
      textarea.dispatchEvent(new Event('input'));
      textarea.focus();
    },
  };
}
