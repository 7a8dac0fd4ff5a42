/* The artifacts page. Views: the list of latest artifacts (#/?filters), one artifact version with its key's
 * timeline (#/artifact/<id>), a run with all its artifacts (#/run/<id>), and a not-found page for anything else.
 * Each view is one request to the query app's /ui-api routes (apps/query/src/ui-api), made again whenever the
 * view's subscription (POST /api/artifacts/latest/subscribe, read with fetch so the API token can be sent)
 * announces a change: the list subscribes to its filters, an artifact to its key, a run to its run id. The
 * pipeline panel follows GET /ui/pipeline-status/subscribe. All state lives in the URL hash, so a view can be shared and the back button works. */
(function () {
  'use strict';
  var md = window.ArtifactMarkdown;
  var esc = md.escapeHtml;
  var TOKEN_KEY = 'artifacts.apiToken';
  var SORTS = [
    ['CREATED_DESC', 'Newest first'],
    ['UPDATED_DESC', 'Recently updated'],
    ['KEY_ASC', 'Key, A to Z'],
    ['KEY_DESC', 'Key, Z to A'],
    ['ID_DESC', 'By id (stable order)'],
  ];
  var TYPES = ['markdown', 'table', 'link', 'progress', 'image', 'result'];
  var STATES = ['COMPLETED', 'FAILED', 'CRASHED', 'CANCELLED', 'CANCELLING', 'RUNNING', 'PENDING', 'SCHEDULED', 'PAUSED'];
  var SINCE = [
    ['', 'Any time'],
    ['1h', 'Last hour'],
    ['24h', 'Last 24 hours'],
    ['7d', 'Last 7 days'],
    ['30d', 'Last 30 days'],
  ];
  var SIZES = [10, 25, 50, 100];
  var main = document.getElementById('main');
  var announcer = document.getElementById('announcer');

  // ---- HTTP ------------------------------------------------------------------
  function token() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }
  function request(method, path, body) {
    var headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token()) headers.authorization = 'Bearer ' + token();
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) }).then(
      function (r) {
        return r.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
          if (!r.ok) {
            var err = new Error('HTTP ' + r.status);
            err.status = r.status;
            err.body = data;
            throw err;
          }
          return data;
        });
      },
      function () {
        var err = new Error('network');
        err.status = 0;
        throw err;
      },
    );
  }

  // ---- live updates ---------------------------------------------------------------------------------
  // Server-Sent Events read with fetch (EventSource cannot send the API token); a dropped stream reconnects
  // with the last event id, so no change is missed meanwhile. Two streams at most: the main view's subscription
  // (POST /api/artifacts/latest/subscribe with the view's filter; one at a time) and the pipeline panel's
  // (GET /ui/pipeline-status/subscribe). Each has its own indicator (Live, Paused, Reconnecting) and pause button.
  var LIVE_TEXT = { connecting: 'Connecting…', live: 'Live', paused: 'Paused', reconnecting: 'Reconnecting…' };
  var SUBSCRIBE = '/api/artifacts/latest/subscribe';
  /** options: path, method, body (POST only), stateId, toggleId, noun (the button's words), onEvent(event, data), onFailure(status). */
  function openLive(options) {
    var l = Object.assign({ lastId: '', state: 'connecting', stopped: false }, options);
    connectLive(l);
    return l;
  }
  function setLiveState(l, state) {
    l.state = state;
    showLiveState(l);
  }
  function showLiveState(l) {
    var el = document.getElementById(l.stateId);
    if (el) {
      el.setAttribute('data-state', l.state);
      el.textContent = LIVE_TEXT[l.state];
    }
    var button = document.getElementById(l.toggleId);
    if (button) {
      button.textContent = (l.state === 'paused' ? 'Resume ' : 'Pause ') + l.noun;
      button.setAttribute('aria-pressed', l.state === 'paused' ? 'true' : 'false');
    }
  }
  function closeLive(l) {
    if (!l) return;
    l.stopped = true;
    if (l.controller) l.controller.abort();
    clearTimeout(l.timer);
    clearTimeout(l.debounce);
  }
  function connectLive(l) {
    if (l.stopped || l.state === 'paused') return;
    var headers = { accept: 'text/event-stream' };
    if (l.body !== undefined) headers['content-type'] = 'application/json';
    if (token()) headers.authorization = 'Bearer ' + token();
    if (l.lastId) headers['last-event-id'] = l.lastId;
    l.controller = new AbortController();
    var controller = l.controller;
    var status = 0;
    fetch(l.path, { method: l.method, headers: headers, body: l.body === undefined ? undefined : JSON.stringify(l.body), signal: controller.signal })
      .then(function (r) {
        status = r.status;
        if (!r.ok || !r.body) throw new Error('HTTP ' + r.status);
        if (!l.stopped) setLiveState(l, 'live');
        var reader = r.body.getReader();
        var decoder = new TextDecoder();
        var buffer = '';
        var event = '';
        var data = [];
        var id = null;
        var pump = function () {
          return reader.read().then(function (chunk) {
            if (chunk.done) throw new Error('stream ended');
            buffer += decoder.decode(chunk.value, { stream: true });
            var lines = buffer.split('\n');
            buffer = lines.pop();
            lines.forEach(function (line) {
              line = line.replace(/\r$/, '');
              if (line === '') {
                // The block's id counts only once the block is handled: a pause in between must not skip it.
                if (!l.stopped && l.state !== 'paused') {
                  if (id !== null) l.lastId = id;
                  if (data.length) l.onEvent(event || 'message', data.join('\n'), l);
                }
                event = '';
                data = [];
                id = null;
                return;
              }
              var colon = line.indexOf(':');
              if (colon === 0) return;
              var field = colon < 0 ? line : line.slice(0, colon);
              var value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'event') event = value;
              else if (field === 'data') data.push(value);
              else if (field === 'id') id = value;
            });
            return pump();
          });
        };
        return pump();
      })
      .catch(function () {
        if (l.stopped || l.state === 'paused' || controller.signal.aborted) return;
        if (l.onFailure) l.onFailure(status);
        setLiveState(l, 'reconnecting');
        l.timer = setTimeout(function () { connectLive(l); }, 2000);
      });
  }
  function toggleLive(l) {
    if (!l || l.stopped) return;
    if (l.state === 'paused') {
      setLiveState(l, 'connecting');
      connectLive(l);
    } else {
      if (l.controller) l.controller.abort();
      clearTimeout(l.timer);
      clearTimeout(l.debounce);
      setLiveState(l, 'paused');
    }
  }
  function liveLine(stateId, toggleId, noun) {
    return '<p class="live-line"><span id="' + stateId + '" class="live-state" role="status" data-state="connecting">' + LIVE_TEXT.connecting + '</span> ' +
      '<button type="button" id="' + toggleId + '" aria-pressed="false">Pause ' + noun + '</button></p>';
  }

  // The main view's subscription. Every event, the first snapshot included, asks the view to reload what it
  // shows (debounced): the view's own load and the subscription's snapshot are not taken at the same instant,
  // so the reload after the snapshot closes that gap; a view re-renders only when the answer differs.
  var live = null;
  function stopLive() {
    closeLive(live);
    live = null;
  }
  function startLive(body, onChange) {
    var key = JSON.stringify(body);
    if (!live || live.stopped || live.key !== key) {
      stopLive();
      live = openLive({
        path: SUBSCRIBE, method: 'POST', body: body, stateId: 'live-state', toggleId: 'live-toggle', noun: 'live updates',
        onEvent: function (event, data, l) {
          if (event !== 'snapshot' && event !== 'upsert' && event !== 'remove') return;
          clearTimeout(l.debounce);
          l.debounce = setTimeout(function () { if (!l.stopped && l.state !== 'paused') l.onChange(); }, 200);
        },
      });
      live.key = key;
    }
    live.onChange = onChange;
    showLiveState(live);
    var button = document.getElementById('live-toggle');
    if (button && !button.getAttribute('data-wired')) {
      button.setAttribute('data-wired', 'true');
      button.addEventListener('click', function () { toggleLive(live); });
    }
  }
  function mainLiveLine() {
    return liveLine('live-state', 'live-toggle', 'live updates');
  }

  // ---- small renderers -----------------------------------------------------------
  var UNITS = [['year', 31536000], ['month', 2592000], ['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];
  function relative(ts, now) {
    var t = Date.parse(ts);
    if (isNaN(t)) return String(ts);
    var diff = Math.round(((now || Date.now()) - t) / 1000);
    var abs = Math.abs(diff);
    if (abs < 45) return 'just now';
    for (var i = 0; i < UNITS.length; i++) {
      var n = Math.floor(abs / UNITS[i][1]);
      if (n >= 1) {
        var text = n + ' ' + UNITS[i][0] + (n === 1 ? '' : 's');
        return diff >= 0 ? text + ' ago' : 'in ' + text;
      }
    }
    return 'just now';
  }
  function absolute(ts) {
    var d = new Date(ts);
    return isNaN(d.getTime()) ? String(ts) : d.toISOString().replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
  }
  /** A relative time; the absolute one on hover (title) and for machines (datetime). */
  function when(ts) {
    if (!ts) return '<span class="muted">—</span>';
    return '<time datetime="' + esc(ts) + '" title="' + esc(absolute(ts)) + '">' + esc(relative(ts)) + '</time>';
  }
  function none(text) {
    return '<span class="muted">' + esc(text || '—') + '</span>';
  }
  /** A one-line, markup-free excerpt of a markdown description. */
  function excerpt(text, n) {
    if (!text) return none();
    var s = String(text).replace(/[#*_`>|]/g, ' ').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/\s+/g, ' ').trim();
    return esc(s.length > n ? s.slice(0, n - 1) + '…' : s);
  }
  function typeBadge(type) {
    return '<span class="badge badge-' + esc(type || 'none') + '">' + esc(type || 'no type') + '</span>';
  }
  function stateBadge(stateType, stateName) {
    if (!stateType && !stateName) return '';
    return ' <span class="state-badge state-' + esc(String(stateType || 'none').toLowerCase()) + '">' + esc(stateName || stateType) + '</span>';
  }
  function copyButton(value, what) {
    // The visible word is part of the accessible name ("Copy id"), so speech users can say what they see.
    return '<button type="button" class="copy" data-copy="' + esc(value) + '" data-what="' + esc(what) + '"><span class="copy-label">Copy</span><span class="visually-hidden"> ' + esc(what) + '</span></button>';
  }
  function runLink(run, fallbackId) {
    if (run) return '<a href="#/run/' + esc(run.id) + '">' + esc(run.name) + '</a>' + stateBadge(run.state_type, run.state_name);
    if (fallbackId) return '<a href="#/run/' + esc(fallbackId) + '" title="' + esc(fallbackId) + '">run ' + esc(String(fallbackId).slice(0, 8)) + '</a> ' + none('(not in the read model)');
    return none();
  }
  function filterLink(field, named) {
    if (!named) return none();
    var state = defaultListState();
    state[field] = named.name;
    return '<a href="' + listHash(state) + '" title="Latest artifacts of ' + (field === 'flow' ? 'flow ' : 'deployment ') + esc(named.name) + '">' + esc(named.name) + '</a>';
  }
  function announce(text) {
    announcer.textContent = '';
    setTimeout(function () { announcer.textContent = text; }, 50);
  }

  // ---- states written for people -------------------------------------------------------
  function backLink() {
    return '<a href="' + esc(lastListHash) + '" class="back">← All artifacts</a>';
  }
  function errorView(e, what, inList) {
    var message;
    if (e.status === 401) message = 'This server needs an API token to show ' + what + '. Enter it in the “API token” field at the top, then try again.';
    else if (e.status === 0) message = 'The page could not reach the server to load ' + what + '. Check your connection or that the query app is running, then try again.';
    else if (e.status === 422) message = 'The server did not accept this request for ' + what + ': ' + esc(validationText(e.body)) + '.';
    else if (e.status === 503) message = 'The server is up but its database does not answer, so ' + what + ' cannot be shown right now. Try again in a moment.';
    else message = 'Something went wrong while loading ' + what + ' (HTTP ' + e.status + '). Try again; if it keeps happening, the query app\'s log says why.';
    var heading = inList ? '<h3>' : '<h2 id="view-title" tabindex="-1">';
    return '<div class="notice notice-error" role="alert">' + heading + 'Could not load ' + esc(what) + (inList ? '</h3>' : '</h2>') + '<p>' + message + '</p>' +
      '<p class="actions"><button type="button" id="retry">Try again</button> ' + backLink() + '</p></div>';
  }
  function validationText(body) {
    if (body && body.exception_detail && body.exception_detail[0]) {
      var d = body.exception_detail[0];
      return (d.loc || []).slice(1).join('.') + ': ' + d.msg;
    }
    return body && body.detail ? body.detail : 'invalid input';
  }
  function loading(what) {
    return '<p class="muted loading" role="status" aria-live="polite">Loading ' + esc(what) + '…</p>';
  }

  // ---- routing -------------------------------------------------------------------
  function parseHash() {
    var hash = location.hash.replace(/^#/, '') || '/';
    var q = hash.indexOf('?');
    return { path: q < 0 ? hash : hash.slice(0, q), params: new URLSearchParams(q < 0 ? '' : hash.slice(q + 1)) };
  }
  function defaultListState() {
    return { key: '', type: '', flow: '', deployment: '', tags: '', state: '', since: '', sort: 'CREATED_DESC', size: 10, page: 1 };
  }
  function listState(params) {
    var s = defaultListState();
    ['key', 'type', 'flow', 'deployment', 'tags', 'state', 'since'].forEach(function (k) { s[k] = (params.get(k) || '').trim(); });
    var sort = params.get('sort');
    if (SORTS.some(function (o) { return o[0] === sort; })) s.sort = sort;
    var size = parseInt(params.get('size') || '', 10);
    if (SIZES.indexOf(size) >= 0) s.size = size;
    var page = parseInt(params.get('page') || '1', 10);
    s.page = page > 0 ? page : 1;
    return s;
  }
  function listHash(s) {
    var p = new URLSearchParams();
    ['key', 'type', 'flow', 'deployment', 'tags', 'state', 'since'].forEach(function (k) { if (s[k]) p.set(k, s[k]); });
    if (s.sort && s.sort !== 'CREATED_DESC') p.set('sort', s.sort);
    if (s.size && s.size !== 10) p.set('size', String(s.size));
    if (s.page > 1) p.set('page', String(s.page));
    var text = p.toString();
    return '#/' + (text ? '?' + text : '');
  }
  var lastListHash = '#/';
  var renderSeq = 0;
  var currentView = '';

  function route() {
    var seq = ++renderSeq;
    var h = parseHash();
    var m;
    if (h.path === '/' || h.path === '') return showList(listState(h.params), seq);
    stopLive();
    if ((m = /^\/artifact\/([^/]+)$/.exec(h.path))) return showArtifact(decodeURIComponent(m[1]), seq);
    if ((m = /^\/run\/([^/]+)$/.exec(h.path))) return showRun(decodeURIComponent(m[1]), seq);
    return showNotFound();
  }
  /** Puts a new view in place; focus moves to its heading when the view changed (not when a filter did). */
  function setView(kind, html, title) {
    var changed = kind !== currentView;
    currentView = kind;
    main.innerHTML = html;
    document.title = title + ' · Artifacts';
    if (changed) focusTitle();
  }
  var navigated = false; // no focus move on the first load: the reader starts at the top of the page
  function focusTitle() {
    if (!navigated) return;
    var h = document.getElementById('view-title');
    if (h) h.focus({ preventScroll: false });
  }
  function isUuid(id) {
    return /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(id);
  }

  // ---- list ----------------------------------------------------------------------
  function sinceInstant(since) {
    var m = /^(\d+)([hd])$/.exec(since);
    if (m) return new Date(Date.now() - Number(m[1]) * (m[2] === 'h' ? 3600e3 : 86400e3)).toISOString();
    var t = Date.parse(since);
    return isNaN(t) ? undefined : new Date(t).toISOString();
  }
  function tagList(tags) {
    return tags.split(',').map(function (t) { return t.trim(); }).filter(Boolean);
  }
  /** The filters in the API's filter language (Prefect's), each group combined with and_. */
  function filterBody(s) {
    var body = {};
    var artifacts = {};
    if (s.key) artifacts.key = { like_: s.key };
    if (s.type) artifacts.type = { any_: [s.type] };
    if (s.key || s.type) body.artifacts = Object.assign({ operator: 'and_' }, artifacts);
    if (s.flow) body.flows = { operator: 'and_', name: { like_: s.flow } };
    if (s.deployment) body.deployments = { operator: 'and_', name: { like_: s.deployment } };
    var runs = {};
    if (tagList(s.tags).length) runs.tags = { operator: 'and_', all_: tagList(s.tags) };
    if (s.state) runs.state = { operator: 'and_', type: { any_: [s.state] } };
    if (runs.tags || runs.state) body.flow_runs = Object.assign({ operator: 'and_' }, runs);
    var after = s.since ? sinceInstant(s.since) : undefined;
    if (after) body.updated_after = after;
    return body;
  }
  function hasFilters(s) {
    return Boolean(s.key || s.type || s.flow || s.deployment || s.tags || s.state || s.since);
  }
  function options(list, selected) {
    return list.map(function (o) {
      var value = Array.isArray(o) ? o[0] : o;
      var label = Array.isArray(o) ? o[1] : o;
      return '<option value="' + esc(value) + '"' + (String(value) === String(selected) ? ' selected' : '') + '>' + esc(label) + '</option>';
    }).join('');
  }
  function listForm(s) {
    var since = SINCE.slice();
    if (s.since && !since.some(function (o) { return o[0] === s.since; })) since.push([s.since, 'Since ' + absolute(sinceInstant(s.since) || s.since)]);
    var stateOptions = [['', 'any']].concat(STATES.map(function (t) { return [t, t.charAt(0) + t.slice(1).toLowerCase()]; }));
    return '<form id="list-form" class="filters" role="search" aria-label="Filter artifacts">' +
      '<div class="field"><label for="key-search">Key contains</label><input type="search" name="key" id="key-search" value="' + esc(s.key) + '"></div>' +
      '<div class="field"><label for="type-filter">Type</label><select name="type" id="type-filter">' + options([['', 'any']].concat(TYPES), s.type) + '</select></div>' +
      '<div class="field"><label for="flow-filter">Flow name contains</label><input type="search" name="flow" id="flow-filter" value="' + esc(s.flow) + '"></div>' +
      '<div class="field"><label for="deployment-filter">Deployment name contains</label><input type="search" name="deployment" id="deployment-filter" value="' + esc(s.deployment) + '"></div>' +
      '<div class="field"><label for="tags-filter">Flow-run tags</label><input type="search" name="tags" id="tags-filter" aria-describedby="tags-help" value="' + esc(s.tags) + '"><small id="tags-help" class="muted">all of, comma-separated</small></div>' +
      '<div class="field"><label for="state-filter">Flow-run state</label><select name="state" id="state-filter">' + options(stateOptions, s.state) + '</select></div>' +
      '<div class="field"><label for="since-filter">Updated</label><select name="since" id="since-filter">' + options(since, s.since) + '</select></div>' +
      '<div class="field"><label for="sort-select">Order</label><select name="sort" id="sort-select">' + options(SORTS, s.sort) + '</select></div>' +
      '<div class="field"><label for="size-select">Per page</label><select name="size" id="size-select">' + options(SIZES, s.size) + '</select></div>' +
      '<div class="field buttons"><button type="submit">Apply</button> <a href="#/" id="clear-filters">Clear filters</a></div>' +
      '</form>';
  }
  function formState(f) {
    return {
      key: f.key.value.trim(), type: f.type.value, flow: f.flow.value.trim(), deployment: f.deployment.value.trim(), tags: f.tags.value.trim(),
      state: f.state.value, since: f.since.value, sort: f.sort.value, size: parseInt(f.size.value, 10), page: 1,
    };
  }
  function showList(s, seq) {
    lastListHash = listHash(s);
    var title = hasFilters(s) ? 'Filtered artifacts' : 'Latest artifacts';
    if (currentView !== 'list' || !document.getElementById('list-form')) {
      setView('list', '<h2 id="view-title" tabindex="-1">' + title + '</h2>' + listForm(s) + mainLiveLine() + '<div id="list-results" aria-live="polite"></div>', title + (s.page > 1 ? ', page ' + s.page : ''));
      var f = document.getElementById('list-form');
      var go = function (e) {
        if (e) e.preventDefault();
        location.hash = listHash(formState(f));
      };
      f.addEventListener('submit', go);
      ['type', 'state', 'since', 'sort', 'size'].forEach(function (name) { f[name].addEventListener('change', go); });
    } else {
      // Same view, new filters: keep the form (and the focus in it), refresh its values.
      var form = document.getElementById('list-form');
      var active = document.activeElement && form.contains(document.activeElement) ? document.activeElement.id : '';
      form.outerHTML = listForm(s);
      var again = document.getElementById('list-form');
      var submit = function (e) {
        if (e) e.preventDefault();
        location.hash = listHash(formState(again));
      };
      again.addEventListener('submit', submit);
      ['type', 'state', 'since', 'sort', 'size'].forEach(function (name) { again[name].addEventListener('change', submit); });
      if (active) restoreFocus(active);
      document.getElementById('view-title').textContent = title;
      document.title = title + (s.page > 1 ? ', page ' + s.page : '') + ' · Artifacts';
    }
    var results = document.getElementById('list-results');
    var hash = location.hash;
    results.removeAttribute('data-for');
    results.innerHTML = loading('artifacts');
    results.setAttribute('aria-busy', 'true');
    var body = Object.assign({ sort: s.sort, limit: s.size, offset: (s.page - 1) * s.size }, filterBody(s));
    var load = newestOnly();
    var fetchRows = function () {
      load(request('POST', '/ui-api/artifacts/latest', body), function (answer, first) {
        if (seq !== renderSeq) return;
        results.removeAttribute('aria-busy');
        results.innerHTML = listResults(s, answer);
        results.setAttribute('data-for', hash); // which URL these results answer (tests wait on it)
        if (first) announce(document.getElementById('list-summary') ? document.getElementById('list-summary').textContent : '');
      }, function (e, first) {
        if (seq !== renderSeq || !first) return; // a reload that failed: the next change, or a reload, tries again
        results.removeAttribute('aria-busy');
        results.innerHTML = errorView(e, 'the artifacts', true);
        results.setAttribute('data-for', hash);
        wireRetry();
      });
    };
    // The subscription covers every key the filters match (its body ignores updated_after, a /ui-api member);
    // a change there reloads this page of rows, in place.
    startLive(filterBody(s), fetchRows);
    fetchRows();
  }
  /**
   * The loads of one view: only the answer of the newest request sent is shown (a reload may overtake the
   * first load), and only when it differs from what is on screen, so an unchanged answer moves nothing.
   * render(answer, first) and fail(error, first), first meaning nothing of this view was shown yet.
   */
  function newestOnly() {
    var issued = 0;
    var shown = 0;
    var text = null;
    return function (promise, render, fail) {
      var n = ++issued;
      promise.then(
        function (answer) {
          if (n < shown) return;
          shown = n;
          var t = JSON.stringify(answer);
          if (t === text) return;
          var first = text === null;
          text = t;
          render(answer, first);
        },
        function (e) {
          if (n >= shown) fail(e, text === null);
        },
      );
    };
  }
  function restoreFocus(id) {
    var el = document.getElementById(id);
    if (el) el.focus();
  }
  function listResults(s, answer) {
    var total = answer.count;
    var pages = Math.max(1, Math.ceil(total / s.size));
    if (total === 0) {
      return '<div class="notice" id="list-empty"><p id="list-summary"><strong>' +
        (hasFilters(s) ? 'No artifacts match these filters.' : 'No artifacts yet.') + '</strong></p><p>' +
        (hasFilters(s)
          ? 'Try a shorter key, another type or a wider time range, or <a href="#/">clear all filters</a>.'
          : 'Artifacts appear here as soon as the ingest app has applied their events; the pipeline panel shows its progress.') +
        '</p></div>';
    }
    if (s.page > pages) {
      return '<div class="notice" id="list-past-end"><p id="list-summary"><strong>Page ' + s.page + ' does not exist</strong>: ' + total + ' key' + (total === 1 ? '' : 's') +
        ' fill ' + pages + ' page' + (pages === 1 ? '' : 's') + ' of ' + s.size + '.</p><p><a id="last-page" href="' + listHash(Object.assign({}, s, { page: pages })) + '">Go to the last page (' + pages + ')</a> · <a href="' +
        listHash(Object.assign({}, s, { page: 1 })) + '">Go to the first page</a></p></div>';
    }
    var first = (s.page - 1) * s.size + 1;
    var last = first + answer.rows.length - 1;
    return '<p id="list-summary">' + total + ' key' + (total === 1 ? '' : 's') + ' · showing ' + first + '–' + last + ' · page ' + s.page + ' of ' + pages + '</p>' +
      '<div class="table-wrap" tabindex="0" role="region" aria-label="Artifacts, scrolls sideways"><table class="list"><caption class="visually-hidden">Latest artifact of each key</caption><thead><tr>' +
      '<th scope="col">Key</th><th scope="col">Type</th><th scope="col">Description</th><th scope="col">Flow run</th><th scope="col">Task run</th><th scope="col">Flow · deployment</th><th scope="col">Updated</th></tr></thead><tbody>' +
      answer.rows.map(function (row) {
        var a = row.artifact;
        var fr = row.flow_run;
        return '<tr><td class="key-cell"><a href="#/artifact/' + esc(a.latest_id) + '">' + esc(a.key) + '</a></td>' +
          '<td data-label="Type">' + typeBadge(a.type) + '</td>' +
          '<td class="wrap" data-label="Description">' + excerpt(a.description, 90) + '</td>' +
          '<td class="run-cell" data-label="Flow run">' + runLink(fr, a.flow_run_id) + '</td>' +
          '<td class="run-cell" data-label="Task run">' + runLink(row.task_run, a.task_run_id) + '</td>' +
          '<td class="wrap" data-label="Flow · deployment">' + (fr ? filterLink('flow', fr.flow) + (fr.deployment ? ' · ' + filterLink('deployment', fr.deployment) : '') : none()) + '</td>' +
          '<td class="nowrap" data-label="Updated">' + when(a.updated) + '</td></tr>';
      }).join('') +
      '</tbody></table></div>' +
      '<nav class="pager" aria-label="Pages">' +
      (s.page > 1 ? '<a id="prev-page" rel="prev" href="' + listHash(Object.assign({}, s, { page: s.page - 1 })) + '">← Previous page</a>' : '<span></span>') +
      (s.page < pages ? '<a id="next-page" rel="next" href="' + listHash(Object.assign({}, s, { page: s.page + 1 })) + '">Next page →</a>' : '<span></span>') +
      '</nav>';
  }

  // ---- one artifact ----------------------------------------------------------------------
  function parseMaybeJson(data) {
    if (typeof data === 'string') {
      try { return JSON.parse(data); } catch (e) { return data; }
    }
    return data;
  }
  function cell(v) {
    if (v === null || v === undefined) return none('null');
    return esc(typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  function renderTable(data) {
    data = parseMaybeJson(data);
    var columns = [];
    var rows = [];
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
    return '<div class="table-wrap" tabindex="0" role="region" aria-label="Table artifact, scrolls sideways"><table class="data-table">' +
      (columns.length ? '<thead><tr>' + columns.map(function (c) { return '<th scope="col">' + esc(c) + '</th>'; }).join('') + '</tr></thead>' : '') +
      '<tbody>' + rows.map(function (r) { return '<tr>' + r.map(function (v) { return '<td>' + cell(v) + '</td>'; }).join('') + '</tr>'; }).join('') + '</tbody></table></div>';
  }
  function safeUrl(url) {
    return typeof url === 'string' && /^https?:\/\/\S+$/i.test(url.trim()) ? url.trim() : null;
  }
  function renderJson(data, label) {
    return '<pre class="json" tabindex="0" aria-label="' + esc(label || 'JSON') + '"><code>' + esc(JSON.stringify(parseMaybeJson(data), null, 2)) + '</code></pre>';
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
        return '<progress class="progress" max="100" value="' + pct + '" aria-label="Progress">' + pct + '%</progress><p class="progress-label">' + esc(String(v)) + '%</p>';
      }
      case 'image': {
        var src = safeUrl(typeof data === 'string' ? data : data && data.url);
        if (!src) return renderJson(data);
        return '<img class="image-artifact" src="' + esc(src) + '" alt="' + esc(a.description || a.key || 'image artifact') + '">';
      }
      default:
        return renderJson(data, 'Data');
    }
  }
  function facts(rows) {
    return '<dl class="meta">' + rows.filter(Boolean).map(function (r) { return '<dt>' + r[0] + '</dt><dd>' + r[1] + '</dd>'; }).join('') + '</dl>';
  }
  function runFacts(fr, tr, a) {
    return [
      ['Flow run', runLink(fr, a.flow_run_id)],
      ['Task run', runLink(tr, a.task_run_id)],
      ['Flow', fr ? filterLink('flow', fr.flow) : none()],
      ['Deployment', fr ? filterLink('deployment', fr.deployment) : none()],
    ];
  }
  function timeline(answer, a) {
    if (!a.key) return '<p class="muted">A keyless artifact has no other versions.</p>';
    var more = answer.version_count > answer.versions.length ? '<p class="muted">The ' + answer.versions.length + ' newest of ' + answer.version_count + ' versions.</p>' : '';
    return more + '<ol class="timeline" reversed>' + answer.versions.map(function (v, i) {
      var current = v.id === a.id;
      return '<li class="' + (current ? 'current' : '') + (v.is_latest ? ' latest' : '') + '">' +
        '<a href="#/artifact/' + esc(v.id) + '"' + (current ? ' aria-current="page"' : '') + '>Version ' + (answer.version_count - i) + '</a> ' +
        (v.is_latest ? '<span class="badge">latest</span> ' : '') + (current ? '<span class="badge badge-current">shown</span> ' : '') +
        when(v.created) + (v.updated !== v.created ? ' <span class="muted">(edited ' + when(v.updated) + ')</span>' : '') +
        '<div class="muted wrap">' + excerpt(v.description, 120) + '</div></li>';
    }).join('') + '</ol>';
  }
  /**
   * One version and its key's timeline. A keyed artifact stays current through a subscription to its key
   * (artifacts.key.any_): an upsert or remove of the key (a new version, an edit, a deletion) re-fetches the
   * version and the timeline, and the view re-renders in place when the answer changed. A keyless artifact has
   * no collection row to follow, so it loads once.
   */
  function showArtifact(id, seq) {
    if (!isUuid(id)) return showMissing('artifact', id);
    setView('artifact', '<p>' + backLink() + '</p><h2 id="view-title" tabindex="-1">Artifact</h2>' + loading('the artifact'), 'Loading artifact');
    var load = newestOnly();
    var fetchVersion = function () {
      load(request('GET', '/ui-api/artifacts/' + encodeURIComponent(id)), function (answer, first) {
        if (seq !== renderSeq) return;
        var a = answer.version.artifact;
        renderInPlace(first, artifactHtml(answer), (a.key ? a.key : 'Keyless artifact') + (a.key && !answer.version.is_latest ? ' (older version)' : ''));
        if (a.key) startLive({ artifacts: { key: { any_: [a.key] } } }, fetchVersion);
        if (!first) announce('This artifact was updated');
      }, function (e, first) {
        if (seq !== renderSeq) return;
        if (e.status === 404) {
          stopLive();
          return showMissing('artifact', id);
        }
        if (!first) return; // a reload that failed: the next change tries again
        stopLive();
        setView('error', errorView(e, 'this artifact'), 'Error');
        wireRetry();
      });
    };
    fetchVersion();
  }
  /** A view's content, first shown (focus to its title) or shown again with new data (open sections and focus kept). */
  function renderInPlace(first, html, title) {
    if (first) {
      setView(currentView, html, title);
      focusTitle();
      return;
    }
    var open = Array.prototype.filter.call(main.querySelectorAll('details[id]'), function (d) { return d.open; }).map(function (d) { return d.id; });
    var active = document.activeElement && main.contains(document.activeElement) ? document.activeElement.id : '';
    setView(currentView, html, title);
    open.forEach(function (detailsId) {
      var d = document.getElementById(detailsId);
      if (d) d.open = true;
    });
    if (active) restoreFocus(active);
  }
  function artifactHtml(answer) {
    var row = answer.version;
    var a = row.artifact;
    var name = a.key ? a.key : 'Keyless artifact';
    var meta = a.metadata_ && typeof a.metadata_ === 'object' ? a.metadata_ : null;
    return (
      '<p>' + backLink() + '</p>' +
      '<h2 id="view-title" tabindex="-1" class="wrap">' + esc(name) + ' ' + typeBadge(a.type) +
      (a.key ? (row.is_latest ? ' <span class="badge">latest</span>' : ' <span class="badge badge-old">older version</span>') : '') + '</h2>' +
      '<p class="ids">' + (a.key ? 'Key <code class="wrap">' + esc(a.key) + '</code> ' + copyButton(a.key, 'key') + ' · ' : '') + 'Id <code>' + esc(a.id) + '</code> ' + copyButton(a.id, 'id') + '</p>' +
      (a.key ? mainLiveLine() : '') +
      '<div class="detail">' +
      '<div class="detail-main">' +
      (a.description ? '<section aria-labelledby="description-title"><h3 id="description-title">Description</h3><div class="markdown description">' + md.renderMarkdown(a.description) + '</div></section>' : '') +
      '<section aria-labelledby="rendered-title"><h3 id="rendered-title">Content</h3><div id="artifact-data">' + renderData(a) + '</div></section>' +
      '<section aria-labelledby="raw-title"><h3 id="raw-title">Raw JSON</h3>' +
      '<details id="raw-data"><summary>data</summary>' + renderJson(a.data, 'data as JSON') + '</details>' +
      '<details id="raw-metadata"><summary>metadata_</summary>' + renderJson(a.metadata_, 'metadata_ as JSON') + '</details></section>' +
      '</div>' +
      '<section class="detail-side" aria-labelledby="meta-title"><h3 id="meta-title">Details</h3>' +
      facts(runFacts(row.flow_run, row.task_run, a).concat([
        ['Created', when(a.created)],
        ['Updated', when(a.updated)],
      ]).concat(meta ? Object.keys(meta).map(function (k) { return ['<span class="wrap">' + esc(k) + '</span>', '<span class="wrap">' + cell(meta[k]) + '</span>']; }) : [])) +
      '</section></div>' +
      '<section id="history" aria-labelledby="history-title"><h3 id="history-title">' + (a.key ? 'Versions of this key (' + answer.version_count + ')' : 'Versions') + '</h3><div id="history-body">' + timeline(answer, a) + '</div></section>');
  }

  // ---- one run -----------------------------------------------------------------------------
  /**
   * A run and every artifact created in it. It stays current through a subscription to the keys whose latest
   * version is in this run (artifacts.flow_run_id.any_ or task_run_id.any_, the id being either): a new
   * version made in the run, an edit, or a key's latest moving to another run re-fetches the view. A keyless
   * artifact, an older version, or the run's own state changing is not a change of a key's latest row, so it
   * shows with the next such change or a reload.
   */
  function showRun(id, seq) {
    if (!isUuid(id)) return showMissing('run', id);
    setView('run', '<p>' + backLink() + '</p><h2 id="view-title" tabindex="-1">Run</h2>' + loading('the run'), 'Loading run');
    var body = { artifacts: { operator: 'or_', flow_run_id: { any_: [id] }, task_run_id: { any_: [id] } } };
    var load = newestOnly();
    var fetchRun = function () {
      load(request('GET', '/ui-api/runs/' + encodeURIComponent(id)), function (answer, first) {
        if (seq !== renderSeq) return;
        var view = runHtml(id, answer);
        renderInPlace(first, view.html, view.name);
        startLive(body, fetchRun);
        if (!first) announce('The artifacts of this run changed');
      }, function (e, first) {
        if (seq !== renderSeq) return;
        if (e.status === 404) {
          stopLive();
          return showMissing('run', id);
        }
        if (!first) return; // a reload that failed: the next change tries again
        stopLive();
        setView('error', errorView(e, 'this run'), 'Error');
        wireRetry();
      });
    };
    startLive(body, fetchRun);
    fetchRun();
  }
  function runHtml(id, answer) {
    var run = answer.run;
    var kind = answer.kind === 'task_run' ? 'Task run' : 'Flow run';
    var name = run ? kind + ' ' + run.name : 'Run ' + id;
    var rows = [];
    if (run) {
      if (answer.kind === 'task_run') rows.push(['Flow run', runLink(run.flow_run, null)]);
      var fr = answer.kind === 'task_run' ? run.flow_run : run;
      rows.push(['Flow', fr ? filterLink('flow', fr.flow) : none()], ['Deployment', fr ? filterLink('deployment', fr.deployment) : none()]);
      rows.push(['State', run.state_name || run.state_type ? stateBadge(run.state_type, run.state_name) : none('no state yet')]);
      rows.push(['Tags', run.tags && run.tags.length ? run.tags.map(function (t) { return '<span class="tag">' + esc(t) + '</span>'; }).join(' ') : none()]);
      rows.push(['Started', when(run.start_time)], ['Ended', when(run.end_time)]);
    }
    rows.push(['Id', '<code>' + esc(run ? run.id : id) + '</code> ' + copyButton(run ? run.id : id, 'run id')]);
    var list = answer.artifacts.length === 0
      ? '<p class="notice" id="run-empty">This run created no artifacts.</p>'
      : (answer.artifact_count > answer.artifacts.length ? '<p class="muted">The ' + answer.artifacts.length + ' newest of ' + answer.artifact_count + ' artifacts.</p>' : '') +
        '<div class="table-wrap" tabindex="0" role="region" aria-label="Artifacts of this run, scrolls sideways"><table class="list run-artifacts"><caption class="visually-hidden">Artifacts created in this run</caption><thead><tr><th scope="col">Key</th><th scope="col">Type</th><th scope="col">Description</th>' +
        (answer.kind === 'task_run' ? '' : '<th scope="col">Task run</th>') + '<th scope="col">Created</th></tr></thead><tbody>' +
        answer.artifacts.map(function (r) {
          var a = r.artifact;
          return '<tr><td class="key-cell"><a href="#/artifact/' + esc(a.id) + '">' + (a.key ? esc(a.key) : '<em>Keyless ' + esc(a.type || 'artifact') + '</em>') + '</a>' +
            (a.key ? (r.is_latest ? ' <span class="badge">latest</span>' : ' <span class="badge badge-old">older</span>') : '') + '</td>' +
            '<td data-label="Type">' + typeBadge(a.type) + '</td><td class="wrap" data-label="Description">' + excerpt(a.description, 90) + '</td>' +
            (answer.kind === 'task_run' ? '' : '<td class="run-cell" data-label="Task run">' + runLink(r.task_run, a.task_run_id) + '</td>') +
            '<td class="nowrap" data-label="Created">' + when(a.created) + '</td></tr>';
        }).join('') + '</tbody></table></div>';
    var html = '<p>' + backLink() + '</p>' +
      '<h2 id="view-title" tabindex="-1" class="wrap">' + esc(name) + (run ? stateBadge(run.state_type, run.state_name) : '') + '</h2>' +
      (run ? '' : '<p class="notice">The read model has no flow run or task run with this id yet (its event may still be on its way), but artifacts name it.</p>') +
      mainLiveLine() +
      facts(rows) +
      '<section aria-labelledby="run-artifacts-title"><h3 id="run-artifacts-title">Artifacts (' + answer.artifact_count + ')</h3>' + list + '</section>';
    return { html: html, name: name };
  }

  // ---- not found -------------------------------------------------------------------------------
  function showMissing(what, id) {
    var text = what === 'artifact'
      ? 'No artifact has the id <code class="wrap">' + esc(id) + '</code>. It may have been deleted, or the link may be mistyped.'
      : 'No flow run or task run has the id <code class="wrap">' + esc(id) + '</code>, and no artifact names it. The link may be mistyped, or the run\'s events have not arrived yet.';
    setView('missing', '<div class="notice" id="not-found"><h2 id="view-title" tabindex="-1">' + (what === 'artifact' ? 'Artifact not found' : 'Run not found') + '</h2><p>' + text + '</p><p>' + backLink() + '</p></div>',
      what === 'artifact' ? 'Artifact not found' : 'Run not found');
    focusTitle();
  }
  function showNotFound() {
    setView('missing', '<div class="notice" id="not-found"><h2 id="view-title" tabindex="-1">Page not found</h2><p>There is no page at <code class="wrap">' + esc(location.hash) + '</code>.</p><p>' + backLink() + '</p></div>', 'Page not found');
    focusTitle();
  }
  function wireRetry() {
    var b = document.getElementById('retry');
    if (b) b.addEventListener('click', function () { currentView = ''; route(); });
  }

  // ---- copy buttons -------------------------------------------------------------------------------
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand('copy');
      document.body.removeChild(area);
      if (ok) resolve(); else reject(new Error('copy refused'));
    });
  }
  document.addEventListener('click', function (e) {
    var button = e.target.closest && e.target.closest('button.copy');
    if (!button) return;
    copyText(button.getAttribute('data-copy')).then(
      function () {
        var label = button.querySelector('.copy-label');
        label.textContent = 'Copied';
        announce('Copied the ' + button.getAttribute('data-what') + ' to the clipboard');
        setTimeout(function () { label.textContent = 'Copy'; }, 1500);
      },
      function () { announce('The browser did not allow copying; select the text instead.'); },
    );
  });

  // ---- pipeline panel -----------------------------------------------------------------------------
  function minutes(seconds) {
    return seconds % 60 === 0 ? seconds / 60 + ' min' : seconds + ' s';
  }
  function fmtSeconds(s) {
    if (s === null || s === undefined) return '—';
    return s < 1 ? '0 s' : s < 120 ? s.toFixed(1) + ' s' : (s / 60).toFixed(1) + ' min';
  }
  function num(n) {
    return n === null || n === undefined ? '—' : Number(n).toLocaleString('en');
  }
  function renderPipeline(s) {
    if (!s.reachable || !s.ingest) {
      return '<p class="state behind" id="pipeline-state">Ingest app unreachable</p><p>The page could not read <code class="wrap">' + esc(s.ingest_url) + '/status</code>' +
        (s.error ? ': ' + esc(s.error) : '') + '. Artifacts shown may be behind.</p>';
    }
    var i = s.ingest;
    var w = i.window;
    var younger = Date.parse(i.started_at) > Date.parse(w.to) - w.seconds * 1000;
    var windowText = younger ? 'Since the ingest app started (' + when(i.started_at) + ')' : 'Last ' + minutes(w.seconds);
    var lag = i.partitions.reduce(function (sum, p) { return sum + Number(p.lag); }, 0);
    var fresh = i.partitions.reduce(function (max, p) { return p.freshness_seconds === null ? max : Math.max(max, p.freshness_seconds); }, 0);
    return '<p id="pipeline-state" class="state ' + (i.caught_up ? 'ok' : 'behind') + '">' + (i.caught_up === null ? 'Progress unknown' : i.caught_up ? 'Caught up' : 'Catching up') + '</p>' +
      (i.error ? '<p class="small">' + esc(i.error) + '</p>' : '') +
      '<h3 class="small-title" id="pipeline-window">' + windowText + '</h3>' +
      '<dl class="stats">' +
      '<dt>Events applied</dt><dd id="pipeline-applied-window">' + num(w.applied) + '</dd>' +
      '<dt>Dead letters</dt><dd id="pipeline-dead">' + num(w.dead_lettered) + '</dd>' +
      '<dt>Events / s (last minute)</dt><dd id="pipeline-rate">' + num(i.events_per_second) + '</dd>' +
      '</dl>' +
      '<h3 class="small-title">Now</h3><dl class="stats">' +
      '<dt>Total lag</dt><dd id="pipeline-lag">' + num(lag) + '</dd>' +
      '<dt>Freshness</dt><dd id="pipeline-freshness">' + fmtSeconds(fresh) + '</dd></dl>' +
      '<h3 class="small-title">Totals</h3><dl class="stats">' +
      '<dt>Applied since start <span class="muted">(' + when(i.started_at) + ')</span></dt><dd id="pipeline-applied-start">' + num(i.since_start.applied) + '</dd>' +
      '<dt>Dead letters since start</dt><dd id="pipeline-dead-start">' + num(i.since_start.dead_lettered) + '</dd>' +
      (i.durable ? '<dt>Messages applied, all time</dt><dd id="pipeline-applied-durable">' + num(i.durable.applied_messages) + '</dd><dt>Dead letters, all time</dt><dd id="pipeline-dead-durable">' + num(i.durable.dead_lettered) + '</dd>' : '') +
      '</dl>' +
      '<div class="table-wrap" tabindex="0" role="region" aria-label="Per partition"><table class="partitions"><caption>Per partition</caption><thead><tr><th scope="col">Topic</th><th scope="col">Part.</th><th scope="col">Lag</th><th scope="col">Fresh.</th></tr></thead><tbody>' +
      i.partitions.map(function (p) {
        return '<tr><td>' + esc(p.topic) + '</td><td>' + p.partition + '</td><td class="lag" title="high watermark ' + esc(p.high_watermark) + ', checkpoint ' + esc(p.checkpoint) + '">' + esc(p.lag) + '</td><td>' + fmtSeconds(p.freshness_seconds) + '</td></tr>';
      }).join('') +
      '</tbody></table></div><p class="muted small">Counts kept by the ingest app itself; read ' + when(s.read_at) + '.</p>';
  }
  /**
   * The panel follows GET /ui/pipeline-status/subscribe: the query app pushes the ingest app's status when an
   * ingest transaction commits (at most once a second) and on a slow heartbeat; nothing is polled by the page.
   */
  var pipeline = null;
  function startPipeline() {
    closeLive(pipeline);
    var shown = false;
    pipeline = openLive({
      path: '/ui/pipeline-status/subscribe', method: 'GET', stateId: 'pipeline-live-state', toggleId: 'pipeline-live-toggle', noun: 'panel updates',
      onEvent: function (event, data) {
        if (event !== 'status') return;
        shown = true;
        document.getElementById('pipeline-body').innerHTML = renderPipeline(JSON.parse(data));
      },
      // Kept on screen while reconnecting, unless there is nothing yet or the token is missing.
      onFailure: function (status) {
        if (shown && status !== 401) return;
        document.getElementById('pipeline-body').innerHTML = '<p class="state behind" id="pipeline-state">Status unavailable</p><p>' +
          (status === 401 ? 'The status needs the API token; enter it at the top.' : 'The query app did not answer the status request (' + (status ? 'HTTP ' + status : 'no connection') + ').') + '</p>';
      },
    });
  }
  document.getElementById('pipeline-live-toggle').addEventListener('click', function () { toggleLive(pipeline); });

  // ---- token --------------------------------------------------------------------------------------
  function showTokenState() {
    document.getElementById('token-state').textContent = token() ? 'token set for this tab' : '';
  }
  document.getElementById('token-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var input = document.getElementById('token-input');
    try { sessionStorage.setItem(TOKEN_KEY, input.value.trim()); } catch (err) { /* private mode */ }
    input.value = '';
    showTokenState();
    currentView = '';
    stopLive(); // the subscriptions were opened with the old token
    route();
    startPipeline();
  });
  document.getElementById('token-clear').addEventListener('click', function () {
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (err) { /* ignore */ }
    showTokenState();
    currentView = '';
    stopLive(); // the subscriptions were opened with the old token
    route();
    startPipeline();
  });

  // The skip link moves focus without touching the hash (the hash holds the view).
  document.getElementById('skip-link').addEventListener('click', function (e) {
    e.preventDefault();
    var title = document.getElementById('view-title');
    (title || main).focus();
  });

  window.addEventListener('hashchange', function () {
    navigated = true;
    route();
  });
  showTokenState();
  route();
  startPipeline();
  // Relative times age: refresh their text every half minute without re-rendering the view.
  setInterval(function () {
    Array.prototype.forEach.call(document.querySelectorAll('time[datetime]'), function (t) { t.textContent = relative(t.getAttribute('datetime')); });
  }, 30000);
})();
