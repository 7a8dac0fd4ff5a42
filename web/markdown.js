/*
 * A small, safe markdown renderer for markdown artifacts. The source is
 * HTML-escaped FIRST, so nothing in it can become a tag or an attribute; the
 * renderer then only adds its own fixed tags. Links keep http(s) URLs only.
 * Supports headings, paragraphs, **bold**, *italic* / _italic_, `code`,
 * fenced code blocks, - / * / 1. lists, > quotes, --- rules and | tables |.
 * Works in the browser (window.renderMarkdown) and in Node (module.exports).
 */
(function (root) {
  'use strict';

  function escapeHtml(text) {
    return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  }

  function unescapeHtml(text) {
    return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  }

  /** Inline markup on already-escaped text. */
  function inline(text) {
    var codes = [];
    // Code spans first: their content is kept literally.
    text = text.replace(/`([^`]+)`/g, function (_m, code) {
      codes.push('<code>' + code + '</code>');
      return '\u0000' + (codes.length - 1) + '\u0000';
    });
    text = text.replace(/!?\[([^\]]*)\]\(([^)\s]+)\)/g, function (m, label, url) {
      var raw = unescapeHtml(url);
      if (!/^https?:\/\/[^\s]+$/i.test(raw)) return label;
      return '<a href="' + escapeHtml(raw) + '" rel="noopener noreferrer nofollow" target="_blank">' + label + '</a>';
    });
    text = text.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>').replace(/__([^_]+)__/g, '<strong>$1</strong>');
    text = text.replace(/(^|[^*])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>').replace(/(^|[^\w_])_([^_\s][^_]*)_(?!\w)/g, '$1<em>$2</em>');
    return text.replace(/\u0000(\d+)\u0000/g, function (_m, i) {
      return codes[Number(i)];
    });
  }

  function splitRow(line) {
    var s = line.trim();
    if (s.charAt(0) === '|') s = s.slice(1);
    if (s.charAt(s.length - 1) === '|') s = s.slice(0, -1);
    return s.split('|').map(function (c) {
      return c.trim();
    });
  }

  var TABLE_SEPARATOR = /^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$/;

  function renderMarkdown(source) {
    var lines = escapeHtml(source == null ? '' : source).replace(/\r\n?/g, '\n').split('\n');
    var out = [];
    var paragraph = [];
    var i = 0;
    function flush() {
      if (paragraph.length) out.push('<p>' + inline(paragraph.join(' ')) + '</p>');
      paragraph = [];
    }
    while (i < lines.length) {
      var line = lines[i];
      var m;
      if (/^\s*```/.test(line)) {
        flush();
        var code = [];
        i++;
        while (i < lines.length && !/^\s*```/.test(lines[i])) code.push(lines[i++]);
        i++;
        out.push('<pre tabindex="0"><code>' + code.join('\n') + '</code></pre>'); // focusable: keyboard users can scroll it
        continue;
      }
      if ((m = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line))) {
        flush();
        out.push('<h' + m[1].length + '>' + inline(m[2]) + '</h' + m[1].length + '>');
        i++;
        continue;
      }
      if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
        flush();
        out.push('<hr>');
        i++;
        continue;
      }
      if (line.indexOf('|') >= 0 && i + 1 < lines.length && TABLE_SEPARATOR.test(lines[i + 1]) && lines[i + 1].indexOf('-') >= 0) {
        flush();
        var head = splitRow(line);
        var html = '<div class="table-wrap" tabindex="0"><table><thead><tr>' + head.map(function (c) { return '<th scope="col">' + inline(c) + '</th>'; }).join('') + '</tr></thead><tbody>';
        i += 2;
        while (i < lines.length && lines[i].indexOf('|') >= 0 && lines[i].trim() !== '') {
          html += '<tr>' + splitRow(lines[i]).map(function (c) { return '<td>' + inline(c) + '</td>'; }).join('') + '</tr>';
          i++;
        }
        out.push(html + '</tbody></table></div>');
        continue;
      }
      if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
        flush();
        var ordered = /^\s*\d+[.)]\s+/.test(line);
        var items = [];
        while (i < lines.length && (ordered ? /^\s*\d+[.)]\s+/ : /^\s*[-*+]\s+/).test(lines[i])) {
          items.push('<li>' + inline(lines[i].replace(/^\s*([-*+]|\d+[.)])\s+/, '')) + '</li>');
          i++;
        }
        out.push((ordered ? '<ol>' : '<ul>') + items.join('') + (ordered ? '</ol>' : '</ul>'));
        continue;
      }
      if (/^&gt;\s?/.test(line)) {
        flush();
        var quote = [];
        while (i < lines.length && /^&gt;\s?/.test(lines[i])) quote.push(lines[i++].replace(/^&gt;\s?/, ''));
        out.push('<blockquote>' + inline(quote.join(' ')) + '</blockquote>');
        continue;
      }
      if (line.trim() === '') {
        flush();
        i++;
        continue;
      }
      paragraph.push(line.trim());
      i++;
    }
    flush();
    return out.join('\n');
  }

  var api = { renderMarkdown: renderMarkdown, escapeHtml: escapeHtml };
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.ArtifactMarkdown = api;
})(typeof self !== 'undefined' ? self : this);
