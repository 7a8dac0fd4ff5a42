/* The artifacts page: list of latest artifacts, one artifact with its key's history, pipeline status.
 * Calls only Prefect's public read API under /api and GET /ui/pipeline-status. State lives in the URL hash. */
(function () {
  'use strict';
  var md = window.ArtifactMarkdown;
  var esc = md.escapeHtml;
  var PAGE_SIZE = 10;
  var SORTS = ['CREATED_DESC', 'UPDATED_DESC', 'ID_DESC', 'KEY_DESC', 'KEY_ASC'];
  var TYPES = ['markdown', 'table', 'link', 'progress', 'image', 'result'];
  var TOKEN_KEY = 'artifacts.apiToken';
  var main = document.getElementById('main');

  function token() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }
  function headers(json) {
    var h = { accept: 'application/json' };
    if (json) h['content-type'] = 'application/json';
    if (token()) h.authorization = 'Bearer ' + token();
    return h;
  }
  function request(method, path, body) {
    return fetch(path, { method: method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body) }).then(function (r) {
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
        if (!r.ok) {
          var err = new Error(r.status === 401 ? 'The API needs a token: enter it above.' : 'HTTP ' + r.status + ': ' + (typeof data === 'string' ? data : JSON.stringify(data)));
          err.status = r.status;
          throw err;
        }
        return data;
      });
    });
  }

  // ---- routing -------------------------------------------------------------
  function parseHash() {
    var hash = location.hash.replace(/^#/, '') || '/';
    var q = hash.indexOf('?');
    var path = q < 0 ? hash : hash.slice(0, q);
    var params = new URLSearchParams(q < 0 ? '' : hash.slice(q + 1));
    return { path: path, params: params };
  }
  function listHash(state) {
    var p = new URLSearchParams();
    if (state.key) p.set('key', state.key);
    if (state.type) p.set('type', state.type);
    if (state.sort && state.sort !== 'CREATED_DESC') p.set('sort', state.sort);
    if (state.page > 1) p.set('page', String(state.page));
    var s = p.toString();
    return '#/' + (s ? '?' + s : '');
  }
  function listState(params) {
    var sort = params.get('sort');
    var type = params.get('type') || '';
    var page = parseInt(params.get('page') || '1', 10);
    return { key: params.get('key') || '', type: type, sort: SORTS.indexOf(sort) >= 0 ? sort : 'CREATED_DESC', page: page > 0 ? page : 1 };
  }
  var lastListHash = '#/';
  var renderSeq = 0;

  function route() {
    var seq = ++renderSeq;
    var h = parseHash();
    var m = /^\/artifact\/([0-9a-fA-F-]{32,36})$/.exec(h.path);
    if (m) return showArtifact(m[1], seq);
    return showList(listState(h.params), seq);
  }

  function fail(e) {
    main.innerHTML = '<p class="error" role="alert">' + esc(e.message) + '</p>';
    if (e.status === 401) document.getElementById('token-input').focus();
  }

  // ---- list ----------------------------------------------------------------
  function filterBody(state) {
    var artifacts = {};
    if (state.key) artifacts.key = { like_: state.key };
    if (state.type) artifacts.type = { any_: [state.type] };
    return { artifacts: artifacts };
  }
  function shortId(id) {
    return id ? '<code title="' + esc(id) + '">' + esc(String(id).slice(0, 8)) + '</code>' : '<span class="muted">—</span>';
  }
  function when(ts) {
    if (!ts) return '';
    var d = new Date(ts);
    return '<time datetime="' + esc(ts) + '" title="' + esc(ts) + '">' + esc(isNaN(d.getTime()) ? ts : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')) + '</time>';
  }
  function excerpt(text, n) {
    if (!text) return '<span class="muted">—</span>';
    var s = String(text);
    return esc(s.length > n ? s.slice(0, n - 1) + '…' : s);
  }

  function showList(state, seq) {
    lastListHash = listHash(state);
    document.title = 'Artifacts';
    var body = filterBody(state);
    var listBody = Object.assign({ sort: state.sort, limit: PAGE_SIZE, offset: (state.page - 1) * PAGE_SIZE }, body);
    var form =
      '<h2>Latest artifacts</h2>' +
      '<form id="list-form" class="filters" role="search">' +
      '<label>Key contains <input type="search" name="key" id="key-search" value="' + esc(state.key) + '"></label>' +
      '<label>Type <select name="type" id="type-filter"><option value="">any</option>' +
      TYPES.map(function (t) { return '<option' + (t === state.type ? ' selected' : '') + '>' + t + '</option>'; }).join('') +
      '</select></label>' +
      '<label>Sort <select name="sort" id="sort-select">' +
      SORTS.map(function (s) { return '<option' + (s === state.sort ? ' selected' : '') + '>' + s + '</option>'; }).join('') +
      '</select></label>' +
      '<button type="submit">Search</button></form>' +
      '<div id="list-results" aria-live="polite"><p class="muted">Loading…</p></div>';
    main.innerHTML = form;
    var f = document.getElementById('list-form');
    function go(e) {
      if (e) e.preventDefault();
      location.hash = listHash({ key: f.key.value.trim(), type: f.type.value, sort: f.sort.value, page: 1 });
    }
    f.addEventListener('submit', go);
    f.type.addEventListener('change', go);
    f.sort.addEventListener('change', go);
    Promise.all([request('POST', '/api/artifacts/latest/filter', listBody), request('POST', '/api/artifacts/latest/count', body)])
      .then(function (res) {
        if (seq !== renderSeq) return;
        var rows = res[0], total = res[1];
        var pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
        var html =
          '<p id="list-summary">' + total + ' collection' + (total === 1 ? '' : 's') + ' · page ' + state.page + ' of ' + pages + '</p>' +
          '<div class="table-wrap"><table class="list"><thead><tr><th scope="col">Key</th><th scope="col">Type</th><th scope="col">Description</th><th scope="col">Flow run</th><th scope="col">Task run</th><th scope="col">Updated</th></tr></thead><tbody>' +
          rows.map(function (a) {
            return '<tr><td><a href="#/artifact/' + esc(a.latest_id || a.id) + '">' + (a.key ? esc(a.key) : '<em>(no key)</em>') + '</a></td>' +
              '<td><span class="badge badge-' + esc(a.type) + '">' + esc(a.type || '—') + '</span></td>' +
              '<td>' + excerpt(a.description, 60) + '</td><td>' + shortId(a.flow_run_id) + '</td><td>' + shortId(a.task_run_id) + '</td><td>' + when(a.updated) + '</td></tr>';
          }).join('') +
          (rows.length ? '' : '<tr><td colspan="6" class="muted">No artifacts match.</td></tr>') +
          '</tbody></table></div><nav class="pager" aria-label="Pages">' +
          (state.page > 1 ? '<a id="prev-page" rel="prev" href="' + listHash(Object.assign({}, state, { page: state.page - 1 })) + '">← Previous</a>' : '<span class="muted">← Previous</span>') +
          (state.page < pages ? '<a id="next-page" rel="next" href="' + listHash(Object.assign({}, state, { page: state.page + 1 })) + '">Next →</a>' : '<span class="muted">Next →</span>') +
          '</nav>';
        document.getElementById('list-results').innerHTML = html;
      })
      .catch(function (e) { if (seq === renderSeq) fail(e); });
  }

  // ---- one artifact ---------------------------------------------------------
  function parseMaybeJson(data) {
    if (typeof data === 'string') {
      try { return JSON.parse(data); } catch (e) { return data; }
    }
    return data;
  }
  function cell(v) {
    if (v === null || v === undefined) return '<span class="muted">null</span>';
    return esc(typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  function renderTable(data) {
    data = parseMaybeJson(data);
    var columns = [], rows = [];
    if (Array.isArray(data)) {
      if (data.every(function (r) { return Array.isArray(r); })) {
        rows = data;
      } else {
        data.forEach(function (r) {
          if (r && typeof r === 'object') Object.keys(r).forEach(function (k) { if (columns.indexOf(k) < 0) columns.push(k); });
        });
        rows = data.map(function (r) { return columns.map(function (c) { return r && typeof r === 'object' ? r[c] : r; }); });
      }
    } else if (data && typeof data === 'object') {
      columns = Object.keys(data);
      var n = columns.reduce(function (max, c) { return Math.max(max, Array.isArray(data[c]) ? data[c].length : 1); }, 0);
      for (var i = 0; i < n; i++) rows.push(columns.map(function (c) { return Array.isArray(data[c]) ? data[c][i] : i === 0 ? data[c] : undefined; }));
    } else {
      return renderJson(data);
    }
    return '<div class="table-wrap"><table class="data-table">' +
      (columns.length ? '<thead><tr>' + columns.map(function (c) { return '<th scope="col">' + esc(c) + '</th>'; }).join('') + '</tr></thead>' : '') +
      '<tbody>' + rows.map(function (r) { return '<tr>' + r.map(function (v) { return '<td>' + cell(v) + '</td>'; }).join('') + '</tr>'; }).join('') + '</tbody></table></div>';
  }
  function safeUrl(url) {
    return typeof url === 'string' && /^https?:\/\/\S+$/i.test(url.trim()) ? url.trim() : null;
  }
  function renderJson(data) {
    return '<pre class="json"><code>' + esc(JSON.stringify(parseMaybeJson(data), null, 2)) + '</code></pre>';
  }
  function renderData(a) {
    var data = a.data;
    switch (a.type) {
      case 'markdown':
        return '<div class="markdown">' + md.renderMarkdown(typeof data === 'string' ? data : JSON.stringify(data, null, 2)) + '</div>';
      case 'table':
        return renderTable(data);
      case 'link': {
        var m = typeof data === 'string' ? /^\s*\[([^\]]*)\]\((\S+)\)\s*$/.exec(data) : null;
        var url = safeUrl(m ? m[2] : data);
        if (!url) return renderJson(data);
        return '<p class="link-artifact"><a href="' + esc(url) + '" rel="noopener noreferrer nofollow" target="_blank">' + esc(m && m[1] ? m[1] : url) + '</a></p>';
      }
      case 'progress': {
        var v = Number(data);
        if (!isFinite(v)) return renderJson(data);
        var pct = Math.max(0, Math.min(100, v));
        return '<progress class="progress" max="100" value="' + pct + '" aria-label="progress">' + pct + '%</progress><p class="progress-label">' + esc(String(v)) + '%</p>';
      }
      case 'image': {
        var src = safeUrl(typeof data === 'string' ? data : data && data.url);
        if (!src) return renderJson(data);
        return '<img class="image-artifact" src="' + esc(src) + '" alt="' + esc(a.description || a.key || 'image artifact') + '">';
      }
      default:
        return renderJson(data);
    }
  }
  function metadataTable(a) {
    var rows = [
      ['Id', '<code>' + esc(a.id) + '</code>'],
      ['Key', a.key ? esc(a.key) : '<em>(no key)</em>'],
      ['Type', esc(a.type || '—')],
      ['Description', excerpt(a.description, 2000)],
      ['Flow run', a.flow_run_id ? '<code>' + esc(a.flow_run_id) + '</code>' : '—'],
      ['Task run', a.task_run_id ? '<code>' + esc(a.task_run_id) + '</code>' : '—'],
      ['Created', when(a.created)],
      ['Updated', when(a.updated)],
    ];
    var meta = a.metadata_ && typeof a.metadata_ === 'object' ? a.metadata_ : null;
    if (meta) Object.keys(meta).forEach(function (k) { rows.push(['metadata · ' + esc(k), cell(meta[k])]); });
    return '<dl class="meta">' + rows.map(function (r) { return '<dt>' + r[0] + '</dt><dd>' + r[1] + '</dd>'; }).join('') + '</dl>';
  }

  function showArtifact(id, seq) {
    main.innerHTML = '<p><a href="' + esc(lastListHash) + '" id="back-link">← Back to the list</a></p><p class="muted">Loading…</p>';
    request('GET', '/api/artifacts/' + encodeURIComponent(id))
      .then(function (a) {
        if (seq !== renderSeq) return;
        document.title = (a.key || a.id) + ' · Artifacts';
        main.innerHTML =
          '<p><a href="' + esc(lastListHash) + '" id="back-link">← Back to the list</a></p>' +
          '<h2 id="artifact-title">' + (a.key ? esc(a.key) : '<em>(no key)</em>') + ' <span class="badge badge-' + esc(a.type) + '">' + esc(a.type || '—') + '</span></h2>' +
          '<div class="detail"><section class="rendered" aria-labelledby="rendered-title"><h3 id="rendered-title">Content</h3><div id="artifact-data">' + renderData(a) + '</div></section>' +
          '<section aria-labelledby="meta-title"><h3 id="meta-title">Details</h3>' + metadataTable(a) + '</section></div>' +
          '<section id="history" aria-labelledby="history-title"><h3 id="history-title">History of this key</h3><div id="history-body"><p class="muted">' + (a.key ? 'Loading…' : 'A keyless artifact has no history.') + '</p></div></section>';
        main.focus();
        if (!a.key) return;
        return request('POST', '/api/artifacts/filter', { artifacts: { key: { any_: [a.key] } }, sort: 'CREATED_DESC' }).then(function (versions) {
          if (seq !== renderSeq) return;
          document.getElementById('history-body').innerHTML =
            '<ol class="history">' + versions.map(function (v, i) {
              var current = v.id === a.id;
              return '<li' + (current ? ' class="current"' : '') + '><a href="#/artifact/' + esc(v.id) + '"' + (current ? ' aria-current="page"' : '') + '>' + when(v.created) + '</a> ' +
                (i === 0 ? '<span class="badge">latest</span> ' : '') + '<span class="muted">' + excerpt(v.description, 80) + '</span></li>';
            }).join('') + '</ol>';
        });
      })
      .catch(function (e) { if (seq === renderSeq) fail(e); });
  }

  // ---- pipeline status ------------------------------------------------------
  function fmtSeconds(s) {
    if (s === null || s === undefined) return '—';
    return s < 1 ? '0 s' : s < 120 ? s.toFixed(1) + ' s' : (s / 60).toFixed(1) + ' min';
  }
  function refreshPipeline() {
    request('GET', '/ui/pipeline-status')
      .then(function (s) {
        var box = document.getElementById('pipeline-body');
        if (!s.reachable) {
          box.innerHTML = '<p class="error">Ingest app unreachable at <code>' + esc(s.ingest_url) + '</code>' + (s.error ? ': ' + esc(s.error) : '') + '</p>';
          return;
        }
        var totalLag = s.partitions.reduce(function (sum, p) { return sum + (p.lag === null ? 0 : Number(p.lag)); }, 0);
        var freshness = s.partitions.reduce(function (max, p) { return p.freshness_seconds === null ? max : Math.max(max, p.freshness_seconds); }, 0);
        box.innerHTML =
          '<p id="pipeline-state" class="state ' + (s.caught_up ? 'ok' : 'behind') + '">' + (s.caught_up ? 'Caught up' : 'Catching up') + '</p>' +
          '<dl class="stats">' +
          '<dt>Total lag</dt><dd id="pipeline-lag">' + totalLag + '</dd>' +
          '<dt>Freshness</dt><dd id="pipeline-freshness">' + fmtSeconds(freshness) + '</dd>' +
          '<dt>Events / s</dt><dd id="pipeline-rate">' + (s.events_per_second === null ? '—' : s.events_per_second) + '</dd>' +
          '<dt>Dead letters (last ' + Math.round(s.recent_window_seconds / 60) + ' min)</dt><dd id="pipeline-dead">' + (s.dead_lettered_recent === null ? '—' : s.dead_lettered_recent) + '</dd>' +
          '<dt>Applied (total)</dt><dd>' + (s.applied_total === null ? '—' : s.applied_total) + '</dd>' +
          '</dl>' +
          '<div class="table-wrap"><table class="partitions"><caption>Per partition</caption><thead><tr><th scope="col">Topic</th><th scope="col">Part.</th><th scope="col">Lag</th><th scope="col">Fresh.</th></tr></thead><tbody>' +
          s.partitions.map(function (p) {
            return '<tr><td>' + esc(p.topic) + '</td><td>' + p.partition + '</td><td class="lag" title="high watermark ' + esc(p.high_watermark) + ', checkpoint ' + esc(p.checkpoint) + '">' + esc(p.lag === null ? '—' : p.lag) + '</td><td>' + fmtSeconds(p.freshness_seconds) + '</td></tr>';
          }).join('') +
          '</tbody></table></div><p class="muted small">Read ' + when(s.scraped_at) + '</p>';
      })
      .catch(function (e) {
        document.getElementById('pipeline-body').innerHTML = '<p class="error">' + esc(e.message) + '</p>';
      });
  }

  // ---- token ------------------------------------------------------------------
  function showTokenState() {
    document.getElementById('token-state').textContent = token() ? 'token set for this tab' : '';
  }
  document.getElementById('token-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var input = document.getElementById('token-input');
    try { sessionStorage.setItem(TOKEN_KEY, input.value.trim()); } catch (err) { /* private mode */ }
    input.value = '';
    showTokenState();
    route();
    refreshPipeline();
  });
  document.getElementById('token-clear').addEventListener('click', function () {
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (err) { /* ignore */ }
    showTokenState();
    route();
  });

  window.addEventListener('hashchange', route);
  showTokenState();
  route();
  refreshPipeline();
  setInterval(refreshPipeline, 3000);
})();
