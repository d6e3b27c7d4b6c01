// netpulse dashboard client (owned by the feed): reads the WebSocket /feed, keeps the last
// minutes of summaries, draws them with uPlot and fills the tables. Plain ES2020, no build.
(function () {
  'use strict';
  var WINDOW = 300; // seconds of chart history, by the summaries' own time (the server's hello sends up to its --feed-history)
  var MAX_ALERT_ROWS = 200; // resolved rows kept (and raised ones, up to MAX_OPEN_ALERT_ROWS)
  var MAX_OPEN_ALERT_ROWS = 1000; // as many as the server's hello carries

  // The token arrives once as ?token=... and is kept for this tab only (not in the URL bar).
  var params = new URLSearchParams(location.search);
  var token = params.get('token');
  if (token) {
    sessionStorage.setItem('netpulse-token', token);
    params.delete('token');
    var rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
  } else {
    token = sessionStorage.getItem('netpulse-token');
  }

  var $ = function (id) { return document.getElementById(id); };
  var state = { xs: [], bytes: [], packets: [], protoLast: {}, protoTotal: {}, alerts: new Map(), seq: 0, source: null, ended: false };
  // Alert counts of the whole run (Report.alerts from the detect stage), not only of the rows
  // this page received: the base comes from /api/summary at connect (or the final report),
  // alerts that arrive later are added to it. null until known (or when no detectors run).
  var counts = null;
  // alerts received since hello and before the base arrived, to add those the base lacks
  var pending = [];
  var baseWanted = false;
  var baseGen = 0; // which fetch is still wanted (a reconnect or the final report supersedes it)

  function fmtNum(n) {
    if (n === null || n === undefined) return 'n/a';
    return Math.round(n).toLocaleString('en-US');
  }
  // SI units (1 kB = 1000 B), as the CLI's messages; the value is rounded before the unit is
  // chosen, so 999,999 B is 1.00 MB, not 1000.0 kB.
  function fmtBytes(n) {
    if (n === null || n === undefined) return 'n/a';
    var units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
    var i = 0;
    var shown = function () { return i === 0 ? String(Math.round(n)) : n.toFixed(Math.abs(n) < 10 ? 2 : 1); };
    while (i < units.length - 1 && Math.abs(Number(shown())) >= 1000) { n /= 1000; i++; }
    return shown() + ' ' + units[i];
  }
  // Every time on the page is UTC, written with its Z (the charts' axis too, whatever the
  // browser's time zone): packet time in a replay, the capture's clock in a live run.
  function fmtTime(sec) {
    var d = new Date(sec * 1000);
    return d.toISOString().replace('T', ' ').replace('.000Z', 'Z');
  }
  function pad2(n) { return (n < 10 ? '0' : '') + n; }
  function fmtClock(sec) {
    var d = new Date(sec * 1000);
    return pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes()) + ':' + pad2(d.getUTCSeconds());
  }
  function text(el, s) { if (el && el.textContent !== s) el.textContent = s; }
  function td(s, cls) { var e = document.createElement('td'); e.textContent = s; if (cls) e.className = cls; return e; }

  // ---- charts ----
  // Rates are whole numbers: ticks at 1, 2, 5 x 10^k only (0.5 packets/s would be labelled 1).
  var INT_INCRS = [];
  for (var m = 1; m <= 1e15; m *= 10) INT_INCRS.push(m, 2 * m, 5 * m);
  function chartWidth(el) { return Math.max(150, el.clientWidth); }
  function makeChart(el, label, color, fmt) {
    var opts = {
      width: chartWidth(el), height: 200,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'); },
      series: [
        { label: 'time (UTC)', value: function (u, v) { return v == null ? '–' : fmtTime(v); } },
        { label: label, stroke: color, fill: color + '22', width: 1.5, value: function (u, v) { return v == null ? '–' : fmt(v); } },
      ],
      axes: [
        { stroke: '#7d8a99', grid: { stroke: '#243040' }, ticks: { stroke: '#243040' }, values: function (u, vals) { return vals.map(fmtClock); } },
        { stroke: '#7d8a99', grid: { stroke: '#243040' }, ticks: { stroke: '#243040' }, size: 70, incrs: INT_INCRS, values: function (u, vals) { return vals.map(fmt); } },
      ],
      // the filled area starts at zero: an axis starting at the window's minimum would show a
      // steady 1,000 packets/s with a dip to 990 as a drop to nothing
      // at least a minute wide, so one second is not drawn on an axis of years
      // (from the data: uPlot widens a lone point to a day before asking)
      scales: { x: { time: true, range: function (u) { var xs = u.data[0]; if (!xs || xs.length === 0) return [0, 60]; var hi = xs[xs.length - 1]; return [Math.min(xs[0], hi - 60), hi]; } }, y: { range: function (u, min, max) { return uPlot.rangeNum(0, max > 0 ? max : 1, 0.1, true); } } },
      legend: { show: true },
    };
    return new uPlot(opts, [[], []], el);
  }
  var chartBytes = makeChart($('chart-bytes'), 'bytes/s', '#4fb3ff', fmtBytes);
  var chartPackets = makeChart($('chart-packets'), 'packets/s', '#4cd07d', fmtNum);
  window.addEventListener('resize', function () {
    chartBytes.setSize({ width: chartWidth($('chart-bytes')), height: 200 });
    chartPackets.setSize({ width: chartWidth($('chart-packets')), height: 200 });
  });
  // for the browser console and the tests: the charts and what they were given
  window.netpulse = { charts: { bytes: chartBytes, packets: chartPackets }, state: state };

  var redrawQueued = false;
  function queueRedraw() {
    if (redrawQueued) return;
    redrawQueued = true;
    requestAnimationFrame(function () { redrawQueued = false; redraw(); });
  }
  function redraw() {
    chartBytes.setData([state.xs, state.bytes]);
    chartPackets.setData([state.xs, state.packets]);
    var n = 0; // seconds drawn (the null points that break the line at gaps are not)
    for (var i = 0; i < state.bytes.length; i++) if (state.bytes[i] !== null) n++;
    var pts = String(n);
    $('chart-bytes').setAttribute('data-points', pts);
    $('chart-packets').setAttribute('data-points', pts);
    var waiting = state.xs.length === 0;
    var notes = document.querySelectorAll('.chart-empty');
    for (var j = 0; j < notes.length; j++) notes[j].hidden = !waiting;
    drawProtocols();
  }

  // One point per second. Consecutive seconds are consecutive summaries (an empty second is a
  // zero row), so a jump means no data: a gap (also one that arrived before this page, in the
  // hello's history, where no gap message says so) or summaries a lagging page was not sent.
  // A null point there breaks the line instead of drawing a slope across it. The window is
  // the last WINDOW seconds of the summaries' time, not WINDOW points.
  function pushPoint(ts, bytes, packets) {
    var n = state.xs.length;
    if (n > 0) {
      var last = state.xs[n - 1];
      if (ts <= last) return; // uPlot needs increasing x; a summary never goes back
      if (ts > last + 1 && state.bytes[n - 1] !== null && bytes !== null) {
        state.xs.push(last + 1); state.bytes.push(null); state.packets.push(null);
      }
    }
    state.xs.push(ts); state.bytes.push(bytes); state.packets.push(packets);
    var oldest = ts - WINDOW + 1;
    var cut = 0;
    while (cut < state.xs.length - 1 && (state.xs[cut] < oldest || state.bytes[cut] === null)) cut++;
    if (cut > 0) { state.xs.splice(0, cut); state.bytes.splice(0, cut); state.packets.splice(0, cut); }
  }

  // ---- messages ----
  function onSummary(s) {
    pushPoint(s.ts, s.bytes, s.packets);
    state.protoLast = s.protocols;
    for (var k in s.protocols) state.protoTotal[k] = (state.protoTotal[k] || 0) + s.protocols[k];
    text($('h-pps'), fmtNum(s.packets));
    text($('h-bps'), fmtBytes(s.bytes));
    text($('h-hosts'), fmtNum(s.activeHosts));
    text($('h-ts'), fmtTime(s.ts));
    drawHosts(s.hosts);
    queueRedraw();
  }

  function onGap(g) {
    // a null point breaks the line instead of drawing a slope across the quiet stretch
    if (state.xs.length > 0) pushPoint(g.from, null, null);
    queueRedraw();
  }

  function onStats(st) {
    text($('h-packets'), fmtNum(st.packets));
    text($('h-drops'), st.dropped !== null ? fmtNum(st.dropped) : st.droppedEstimate !== null ? '~' + fmtNum(st.droppedEstimate) : 'n/a');
    text($('h-anomalies'), fmtNum(st.anomalies));
    text($('h-late'), fmtNum(st.late));
    text($('h-evicted'), fmtNum(st.evictedHosts));
    text($('h-lag'), st.eventLoopLagMs === null ? 'n/a' : st.eventLoopLagMs.toFixed(1) + ' ms');
  }

  function onAlert(a) {
    if (counts) countAlert(counts, a);
    else if (baseWanted) pending.push(a);
    var id = a.key + '|' + a.since;
    state.alerts.delete(id);
    state.alerts.set(id, a); // re-insert: newest last
    trimAlerts();
    drawAlerts();
  }

  // At most MAX_ALERT_ROWS rows: the oldest resolved ones go first, so a condition still
  // raised is never pushed off the list by a stream of alerts that came and went (new hosts);
  // only when more than MAX_OPEN_ALERT_ROWS are raised at once does the oldest raised one go.
  function trimAlerts() {
    if (state.alerts.size <= MAX_ALERT_ROWS) return;
    var open = 0;
    state.alerts.forEach(function (a) { if (a.state === 'raised') open++; });
    var it = state.alerts.entries();
    var over = state.alerts.size - MAX_ALERT_ROWS;
    var drop = [];
    for (var e = it.next(); !e.done && drop.length < over; e = it.next()) {
      if (e.value[1].state !== 'raised') drop.push(e.value[0]);
    }
    for (var i = 0; i < drop.length; i++) state.alerts.delete(drop[i]);
    while (state.alerts.size > MAX_ALERT_ROWS && open > MAX_OPEN_ALERT_ROWS) {
      state.alerts.delete(state.alerts.keys().next().value);
      open--;
    }
  }

  function onEnd(e) {
    state.ended = true;
    setMode();
    text($('footer'), 'source ended (' + e.reason + (e.error ? ': ' + e.error.message : '') + '); the figures stay until the server stops');
  }

  // ---- run-wide alert counts ----
  function countAlert(c, a) {
    if (a.state === 'raised') {
      c.raised++;
      c.bySeverity[a.severity] = (c.bySeverity[a.severity] || 0) + 1;
    } else {
      c.resolved++;
    }
  }

  function setCounts(ra) {
    if (!ra) { counts = null; pending = []; drawAlerts(); return; }
    counts = { raised: ra.raised, resolved: ra.resolved, held: (ra.suppressed || 0) + (ra.rateLimited || 0), bySeverity: {} };
    for (var k in ra.bySeverity) counts.bySeverity[k] = ra.bySeverity[k];
    drawAlerts();
  }

  // The counts so far: the analyzer's report at the feed's seq S; alerts after S are added.
  function fetchCounts() {
    var gen = ++baseGen;
    baseWanted = true;
    var headers = token ? { Authorization: 'Bearer ' + token } : {};
    var done = function (body) {
      if (gen !== baseGen || !baseWanted) return; // superseded by the final report or a reconnect
      baseWanted = false;
      var later = pending; pending = [];
      if (!body) { drawAlerts(); return; } // counts stay those of the rows received
      setCounts(body.report && body.report.alerts);
      addResolvedFromReport(body.report && body.report.alerts);
      if (counts) for (var i = 0; i < later.length; i++) if (later[i].seq > body.seq) countAlert(counts, later[i]);
      drawAlerts();
    };
    fetch('/api/summary?hosts=0', { headers: headers, cache: 'no-store' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(done, function () { done(null); });
  }

  function onReport(r) {
    // the final word: the report's own counts (what was raised, resolved and held back)
    baseGen++; baseWanted = false; pending = [];
    setCounts(r.alerts);
    addResolvedFromReport(r.alerts);
  }

  // The hello carries only the alerts still raised: a page opened (or reconnected) after
  // others came and went would list none of them beside "run: 6 raised". The report's list
  // (each raise, with resolvedTs) fills in the resolved ones this page has no row for, older
  // than the rows it has.
  function addResolvedFromReport(ra) {
    if (!ra || !Array.isArray(ra.list)) return;
    var have = new Set();
    state.alerts.forEach(function (a) { have.add(a.note + '|' + (a.host || '') + '|' + a.since); });
    var older = [];
    for (var i = Math.max(0, ra.list.length - MAX_ALERT_ROWS); i < ra.list.length; i++) {
      var x = ra.list[i];
      if (x.resolvedTs === null || x.resolvedTs === undefined) continue;
      if (have.has(x.note + '|' + (x.host || '') + '|' + x.ts)) continue;
      var key = x.detector + '/' + x.note + '/' + (x.host || '');
      older.push([key + '|' + x.ts, { key: key, state: 'resolved', ts: x.resolvedTs, since: x.ts, detector: x.detector, note: x.note, severity: x.severity, host: x.host, message: x.message }]);
    }
    if (older.length === 0) return;
    var merged = new Map(older);
    state.alerts.forEach(function (a, id) { merged.delete(id); merged.set(id, a); });
    state.alerts = merged;
    trimAlerts();
    drawAlerts();
  }

  function onHello(h) {
    counts = null; pending = [];
    fetchCounts();
    state.xs = []; state.bytes = []; state.packets = []; state.protoTotal = {}; state.protoLast = {};
    state.alerts = new Map(); state.ended = false; state.source = h.source;
    text($('source'), h.source.description + ' · netpulse ' + h.server.version);
    text($('footer'), '');
    for (var i = 0; i < h.summaries.length; i++) onSummary(h.summaries[i]);
    for (var j = 0; j < h.alerts.length; j++) onAlert(h.alerts[j]);
    if (h.stats) onStats(h.stats);
    if (h.end) onEnd(h.end);
    setMode();
    drawAlerts();
    queueRedraw();
  }

  function setMode() {
    var m = !state.source ? '?' : state.source.clock === 'wall' ? 'live' : state.ended ? 'ended' : 'replay';
    var label = m === 'ended' ? 'replay ended' : m;
    $('mode').setAttribute('data-mode', m);
    text($('mode'), label);
  }

  function drawHosts(hosts) {
    var body = $('hosts').tBodies[0];
    var rows = document.createDocumentFragment();
    for (var i = 0; i < hosts.length; i++) {
      var h = hosts[i];
      // size statistics over both directions' packets: the sender side when it sent, else received
      var sz = h.tx.size || h.rx.size;
      var tr = document.createElement('tr');
      tr.appendChild(td(h.addr));
      // risk score 0-100 from risky-services (absent when 0 or the detector is off)
      var risk = typeof h.risk === 'number' && h.risk > 0 ? h.risk : 0;
      var rc = td(risk > 0 ? String(risk) : '–', 'num risk');
      rc.setAttribute('data-risk', String(risk));
      if (risk >= 80) rc.className += ' risk-high'; else if (risk >= 40) rc.className += ' risk-mid';
      tr.appendChild(rc);
      tr.appendChild(td(fmtNum(h.tx.packets), 'num'));
      tr.appendChild(td(fmtBytes(h.tx.bytes), 'num'));
      tr.appendChild(td(fmtNum(h.rx.packets), 'num'));
      tr.appendChild(td(fmtBytes(h.rx.bytes), 'num'));
      var cols = sz ? [sz.mean, sz.stdev, sz.min, sz.p50, sz.p95, sz.p99, sz.max] : [null, null, null, null, null, null, null];
      for (var c = 0; c < cols.length; c++) tr.appendChild(td(cols[c] === null ? '–' : (c < 2 ? cols[c].toFixed(1) : fmtNum(cols[c])), 'num'));
      tr.title = sz === h.tx.size ? 'sizes of packets sent' : 'sizes of packets received';
      rows.appendChild(tr);
    }
    body.replaceChildren(rows);
  }

  function drawProtocols() {
    var body = $('protocols').tBodies[0];
    var names = Object.keys(state.protoTotal).sort(function (a, b) { return state.protoTotal[b] - state.protoTotal[a]; });
    var max = names.length ? state.protoTotal[names[0]] : 1;
    var rows = document.createDocumentFragment();
    for (var i = 0; i < names.length && i < 16; i++) {
      var n = names[i];
      var tr = document.createElement('tr');
      tr.appendChild(td(n));
      tr.appendChild(td(fmtNum(state.protoLast[n] || 0), 'num'));
      tr.appendChild(td(fmtNum(state.protoTotal[n]), 'num'));
      var cell = document.createElement('td');
      var bar = document.createElement('div');
      bar.className = 'bar';
      bar.style.width = (100 * state.protoTotal[n] / max).toFixed(1) + '%';
      cell.appendChild(bar);
      tr.appendChild(cell);
      rows.appendChild(tr);
    }
    body.replaceChildren(rows);
  }

  function drawAlerts() {
    var list = $('alerts');
    var items = document.createDocumentFragment();
    var raised = 0;
    var all = Array.from(state.alerts.values()).reverse();
    for (var i = 0; i < all.length; i++) {
      var a = all[i];
      if (a.state === 'raised') raised++;
      var li = document.createElement('li');
      li.setAttribute('data-state', a.state);
      li.setAttribute('data-severity', a.severity);
      li.setAttribute('data-note', a.note);
      li.setAttribute('data-host', a.host || '');
      li.setAttribute('data-since', String(a.since));
      li.setAttribute('data-ts', String(a.ts));
      var head = document.createElement('div');
      head.textContent = (a.state === 'raised' ? '▲ ' : '✓ ') + a.note + (a.host ? ' ' + a.host : '') + ' [' + a.severity + ', ' + a.state + ']';
      var msg = document.createElement('div');
      msg.textContent = a.message;
      var when = document.createElement('div');
      when.className = 'when';
      when.textContent = 'since ' + fmtTime(a.since) + (a.state === 'resolved' ? ', resolved ' + fmtTime(a.ts) : '') + ' · ' + a.detector;
      li.appendChild(head); li.appendChild(msg); li.appendChild(when);
      items.appendChild(li);
    }
    list.replaceChildren(items);
    drawCounts(raised, all.length - raised);
  }

  function drawCounts(listRaised, listResolved) {
    var el = $('alert-count');
    if (!counts) {
      // no run-wide counts (no detectors, or not known yet): what this page has received
      el.removeAttribute('data-raised'); el.removeAttribute('data-open');
      text(el, '(' + listRaised + ' raised, ' + listResolved + ' resolved)');
      return;
    }
    var open = Math.max(0, counts.raised - counts.resolved);
    el.setAttribute('data-raised', String(counts.raised));
    el.setAttribute('data-open', String(open));
    var sev = [];
    var order = ['critical', 'warning', 'info'];
    for (var i = 0; i < order.length; i++) if (counts.bySeverity[order[i]]) sev.push(counts.bySeverity[order[i]] + ' ' + order[i]);
    text(el, '(run: ' + fmtNum(counts.raised) + ' raised' + (sev.length ? ': ' + sev.join(', ') : '') + '; ' + fmtNum(open) + ' open' +
      (counts.held ? '; ' + fmtNum(counts.held) + ' held back' : '') + ')');
  }

  // ---- connection ----
  var delay = 1000;
  function setStatus(s, label) { var el = $('status'); el.setAttribute('data-state', s); text(el, label || s); }

  // A browser is not told why a WebSocket handshake failed: after a failed attempt, ask an
  // API route whether the token is the reason (true when it answers 401).
  function tokenRefused(then) {
    var headers = token ? { Authorization: 'Bearer ' + token } : {};
    fetch('/api/summary?hosts=0', { headers: headers, cache: 'no-store' })
      .then(function (r) { then(r.status === 401); }, function () { then(false); });
  }

  // Reconnecting cannot help without the right token: say how to give it, and stop.
  function showTokenNeeded() {
    setStatus('unauthorized', 'token required');
    var example = location.origin + location.pathname + '?token=TOKEN';
    var el = $('notice');
    var code = document.createElement('code');
    code.textContent = example;
    el.replaceChildren(
      (token ? 'The token this page was given was refused. ' : 'This netpulse server requires a token. ') + 'Open ',
      code,
      ', with TOKEN the --token (or NETPULSE_TOKEN) netpulse was started with.'
    );
    el.hidden = false;
    if (token) sessionStorage.removeItem('netpulse-token');
  }

  function connect() {
    var proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    var url = proto + '//' + location.host + '/feed' + (token ? '?token=' + encodeURIComponent(token) : '');
    var ws = new WebSocket(url);
    var opened = false;
    setStatus('connecting');
    ws.onopen = function () { opened = true; delay = 1000; setStatus('open'); };
    ws.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (typeof m.seq === 'number' && m.type !== 'hello') state.seq = m.seq;
      switch (m.type) {
        case 'hello': state.seq = m.seq; onHello(m); break;
        case 'summary': onSummary(m); break;
        case 'gap': onGap(m); break;
        case 'stats': onStats(m); break;
        case 'alert': onAlert(m); break;
        case 'end': onEnd(m); break;
        case 'report': onReport(m); break;
        default: break; // lagged: nothing to draw
      }
      document.body.setAttribute('data-seq', String(state.seq));
    };
    ws.onclose = function (ev) {
      setStatus('closed');
      if (ev.code === 1008 || ev.reason) text($('footer'), 'disconnected: ' + (ev.reason || ev.code) + '; reconnecting');
      var retry = function () {
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 10000);
      };
      if (opened) retry();
      else tokenRefused(function (refused) { if (refused) showTokenNeeded(); else retry(); });
    };
  }
  connect();
})();
