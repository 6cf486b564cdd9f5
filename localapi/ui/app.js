// evsed's web page: live status through the Server-Sent Events stream
// /api/v1/events (no polling), charts from /api/v1/history plus the
// stream's "point" events, controls over the JSON API. No dependencies.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const S = {
    token: '', simulated: false, passwordRequired: false,
    es: null, wasDown: false, status: null,
    cards: new Map(),        // connector id -> {el, f: {field: element}}
    series: new Map(),       // connector id -> [{t, powerW, offeredA}]
    stepMs: 5000, lengthMs: 3600000,
    skewMs: 0,               // server clock - this clock
    logSeq: 0, commLoaded: false,
  };

  // ---- API ---------------------------------------------------------------

  async function api(method, path, body, retried) {
    const headers = { 'X-Evsed-Page': '1' };
    if (method !== 'GET') headers['X-Evsed-Token'] = S.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const resp = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (resp.status === 401 && path !== '/api/v1/login') {
      showLogin();
    }
    if (resp.status === 403 && !retried && method !== 'GET' && data && /token/.test(data.error || '')) {
      // The charger restarted and has a new token: fetch it, try again.
      const s = await api('GET', '/api/v1/session');
      S.token = s.token || '';
      return api(method, path, body, true);
    }
    if (!resp.ok) {
      const err = new Error((data && data.error) || ('HTTP ' + resp.status));
      err.status = resp.status;
      throw err;
    }
    return data;
  }

  // ---- start-up, login ---------------------------------------------------

  async function boot() {
    let s;
    try {
      s = await api('GET', '/api/v1/session');
    } catch (e) {
      banner('Cannot reach the charger: ' + e.message + ' (retrying)', true);
      setTimeout(boot, 3000);
      return;
    }
    banner('');
    $('station-id').textContent = s.stationId || 'evsed';
    document.title = (s.stationId || 'evsed') + ' · evsed';
    S.passwordRequired = s.passwordRequired;
    if (s.passwordRequired && !s.authenticated) {
      showLogin();
      return;
    }
    S.token = s.token;
    S.simulated = s.simulated;
    $('login').hidden = true;
    $('logout').hidden = !s.passwordRequired;
    route();
    await loadHistory();
    openStream();
  }

  function showLogin() {
    if (S.es) { S.es.close(); S.es = null; }
    setStream(false, 'logged out');
    $('view-live').hidden = true;
    $('view-commissioning').hidden = true;
    $('logout').hidden = true;
    $('login').hidden = false;
    $('password').focus();
  }

  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const out = $('login-result');
    out.className = 'result';
    out.textContent = 'Checking…';
    try {
      await api('POST', '/api/v1/login', { password: $('password').value });
      $('password').value = '';
      out.textContent = '';
      boot();
    } catch (e) {
      out.className = 'result error';
      out.textContent = e.message;
    }
  });

  $('logout').addEventListener('click', async () => {
    try { await api('POST', '/api/v1/logout'); } catch (e) { /* shown by the login form */ }
    showLogin();
  });

  // ---- views -------------------------------------------------------------

  function route() {
    if (!$('login').hidden) return;
    const comm = location.hash === '#commissioning';
    $('view-live').hidden = comm;
    $('view-commissioning').hidden = !comm;
    $('tab-live').classList.toggle('active', !comm);
    $('tab-commissioning').classList.toggle('active', comm);
    if (comm && !S.commLoaded) loadCommissioning();
    if (!comm) redrawCharts();
  }
  window.addEventListener('hashchange', route);

  function banner(text, error) {
    const b = $('banner');
    b.hidden = !text;
    b.textContent = text;
    b.className = 'banner' + (error ? ' error' : '');
  }

  function setStream(live, text) {
    const p = $('stream');
    p.textContent = text || (live ? 'live' : 'reconnecting…');
    p.className = 'pill ' + (live ? 'live' : 'down');
  }

  // ---- the events stream -------------------------------------------------

  function openStream() {
    if (S.es) S.es.close();
    const es = new EventSource('/api/v1/events');
    S.es = es;
    es.addEventListener('open', () => {
      setStream(true);
      if (S.wasDown) loadHistory(); // fill the gap
      S.wasDown = false;
    });
    es.addEventListener('error', () => {
      setStream(false);
      S.wasDown = true;
      if (es.readyState === EventSource.CLOSED) {
        // Refused (password, too many streams): ask again after a while.
        setTimeout(() => { if (S.es === es) boot(); }, 3000);
      }
    });
    es.addEventListener('status', (ev) => render(JSON.parse(ev.data)));
    es.addEventListener('point', (ev) => addPoint(JSON.parse(ev.data)));
    es.addEventListener('log', (ev) => addLog(JSON.parse(ev.data)));
  }

  // ---- live view ---------------------------------------------------------

  const fmt = {
    power: (w) => Math.abs(w) >= 1000 ? (w / 1000).toFixed(2) + ' kW' : Math.round(w) + ' W',
    amps: (a) => (Math.round(a * 10) / 10) + ' A',
    kwh: (wh) => (wh / 1000).toFixed(3) + ' kWh',
    duration: (ms) => {
      const s = Math.max(0, Math.floor(ms / 1000));
      const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = s % 60;
      return (h ? h + ' h ' : '') + String(m).padStart(h ? 2 : 1, '0') + ' min ' + String(r).padStart(2, '0') + ' s';
    },
  };

  function card(id) {
    let c = S.cards.get(id);
    if (c) return c;
    const el = $('connector-tpl').content.firstElementChild.cloneNode(true);
    el.id = 'c' + id;
    const f = {};
    el.querySelectorAll('[data-f]').forEach((e) => { f[e.dataset.f] = e; });
    f.id.textContent = id;
    el.querySelectorAll('.sim').forEach((e) => { e.hidden = !S.simulated; });
    f.range.addEventListener('change', () => drawChart(id));
    el.querySelectorAll('[data-a]').forEach((b) => {
      b.addEventListener('click', () => act(id, b, f));
    });
    c = { el, f };
    S.cards.set(id, c);
    const list = $('connectors');
    const after = [...S.cards.keys()].filter((k) => k > id).sort((a, b) => a - b)[0];
    list.insertBefore(el, after !== undefined ? S.cards.get(after).el : null);
    return c;
  }

  function render(st) {
    S.status = st;
    $('board').textContent = 'board ' + st.station.board;
    const o = st.station.ocpp;
    $('csms-url').textContent = o.url || 'none (standalone)';
    $('csms-version').textContent = o.version || '—';
    $('csms-connected').textContent = o.url ? (o.connected ? 'connected' : 'offline') : '—';
    $('csms-registration').textContent = o.registration || '—';
    $('csms-queued').textContent = String(o.queued);
    for (const c of st.connectors) {
      const { f } = card(c.id);
      f.status.textContent = c.status;
      f.status.className = 'status ' + c.status;
      f.fault.hidden = !c.fault;
      f.fault.textContent = c.fault ? 'Fault: ' + c.fault : '';
      f.power.textContent = fmt.power(c.meter.powerW);
      f.power.dataset.w = String(c.meter.powerW);
      f.current.textContent = (c.meter.currentA || [0, 0, 0]).map((a) => a.toFixed(1)).join(' / ') + ' A';
      f.offered.textContent = c.offeredA > 0 ? fmt.amps(c.offeredA) : 'none (PWM off)';
      f.limit.textContent = fmt.amps(c.limitA);
      f.pilot.textContent = c.pilot;
      f.contactor.textContent = c.contactor ? 'closed' : 'open';
      f.register.textContent = fmt.kwh(c.meter.energyWh);
      const s = c.session;
      f.idTag.textContent = s ? s.idTag : '—';
      f.energy.textContent = s ? fmt.kwh(s.energyWh) : '—';
      f.duration.dataset.started = s ? s.startedAt : '';
      renderDriver(f, c.display);
      renderDC(f, c.dc);
      drawChart(c.id);
    }
    tickDurations();
  }

  // renderDriver shows what the connector's driver sees (docs/pricing.md):
  // the price text, the running or final cost, and the receipt's QR code,
  // an image the API draws (reloaded only when its text changes).
  function renderDriver(f, d) {
    f.driver.hidden = !d;
    if (!d) return;
    const cost = d.runningCost || d.finalCost;
    f.priceText.textContent = d.priceText || '';
    f.costLabel.textContent = d.runningCost ? 'Running cost' : d.finalCost ? 'Final cost' : '';
    f.cost.textContent = cost ? cost.text : '';
    f.cost.dataset.amount = cost ? String(cost.amount) : '';
    const note = [];
    if (d.offline) note.push('offline');
    if (cost && cost.estimated) note.push('estimated by the charger');
    f.driverNote.textContent = note.join(', ');
    f.qrBox.hidden = !d.qrImage;
    if (d.qrImage && f.qr.getAttribute('src') !== d.qrImage) f.qr.src = d.qrImage;
    if (!d.qrImage) f.qr.removeAttribute('src');
    f.qrText.textContent = d.qrCode || '';
  }

  // The fault kinds a simulated DC connector takes (docs/dc.md).
  const dcFaults = [
    ['isolation', 'Isolation fault'], ['precharge', 'Precharge fault'], ['module', 'Power module trip'],
    ['weld', 'Welded contactor'], ['meter', 'Meter failure'], ['estop', 'Emergency stop'],
  ];

  // renderDC shows a DC connector's sequence (docs/dc.md): the vehicle's
  // SoC as a bar, the step, the output and what is offered, the isolation.
  function renderDC(f, d) {
    f.dc.hidden = !d;
    if (!d) return;
    if (!f.faultKind.dataset.dc) {
      f.faultKind.dataset.dc = '1';
      f.faultKind.replaceChildren(...dcFaults.map(([v, label]) => new Option(label, v)));
    }
    const soc = d.soc === null || d.soc === undefined ? null : d.soc;
    f.socBar.style.width = (soc === null ? 0 : Math.max(0, Math.min(100, soc))) + '%';
    f.soc.textContent = 'SoC ' + (soc === null ? '—' : soc + ' %');
    if (soc === null) f.socMeter.removeAttribute('aria-valuenow');
    else f.socMeter.setAttribute('aria-valuenow', String(soc));
    f.dcStep.textContent = d.step;
    f.dcOutput.textContent = Math.round(d.presentVoltageV) + ' V · ' + fmt.amps(d.presentCurrentA) + ' · ' +
      fmt.power(d.presentVoltageV * d.presentCurrentA);
    f.dcOffered.textContent = fmt.amps(d.offeredCurrentA) + (d.offeredPowerW > 0 ? ' · ' + fmt.power(d.offeredPowerW) : '');
    f.dcIsolation.textContent = d.isolationStatus + (d.isolationOhm > 0 ? ' · ' + fmtOhm(d.isolationOhm) : '');
    f.dcIsolation.className = 'iso-' + d.isolationStatus;
    f.dcTarget.textContent = d.targetVoltageV > 0 || d.targetCurrentA > 0
      ? Math.round(d.targetVoltageV) + ' V · ' + fmt.amps(d.targetCurrentA) : '—';
    f.dcReason.textContent = d.reason || '—';
  }

  function fmtOhm(r) {
    if (r >= 1e6) return (r / 1e6).toFixed(1) + ' MΩ';
    if (r >= 1e3) return (r / 1e3).toFixed(0) + ' kΩ';
    return Math.round(r) + ' Ω';
  }

  function tickDurations() {
    const now = Date.now() + S.skewMs;
    for (const { f } of S.cards.values()) {
      const started = f.duration.dataset.started;
      f.duration.textContent = started ? fmt.duration(now - Date.parse(started)) : '—';
    }
  }
  setInterval(tickDurations, 1000);

  // What each button does: [method path, body].
  const actions = {
    start: (n, f) => ['/api/v1/connectors/' + n + '/start', { idTag: f.startTag.value.trim() }],
    stop: (n) => ['/api/v1/connectors/' + n + '/stop'],
    plug: (n) => ['/api/v1/sim/connectors/' + n + '/plug'],
    charge: (n) => ['/api/v1/sim/connectors/' + n + '/charge'],
    pause: (n) => ['/api/v1/sim/connectors/' + n + '/pause'],
    unplug: (n) => ['/api/v1/sim/connectors/' + n + '/unplug'],
    swipe: (n, f) => ['/api/v1/sim/connectors/' + n + '/swipe', { idTag: f.swipeTag.value.trim() }],
    fault: (n, f) => ['/api/v1/sim/connectors/' + n + '/fault', { kind: f.faultKind.value }],
    clear: (n) => ['/api/v1/sim/connectors/' + n + '/fault', { kind: 'clear' }],
  };

  async function act(n, button, f) {
    const name = button.dataset.a;
    const [path, body] = actions[name](n, f);
    const label = button.textContent;
    button.disabled = true;
    f.result.className = 'result';
    f.result.textContent = label + '…';
    try {
      await api('POST', path, body);
      f.result.className = 'result ok';
      f.result.textContent = label + ': done';
    } catch (e) {
      f.result.className = 'result error';
      f.result.textContent = label + ' failed: ' + e.message;
    } finally {
      button.disabled = false;
    }
  }

  // ---- charts ------------------------------------------------------------

  async function loadHistory() {
    try {
      const h = await api('GET', '/api/v1/history');
      S.stepMs = h.stepSeconds * 1000;
      S.lengthMs = h.lengthSeconds * 1000;
      S.skewMs = Date.parse(h.now) - Date.now();
      S.series = new Map(h.connectors.map((c) => [c.id, c.points]));
      redrawCharts();
    } catch (e) {
      banner('History unavailable: ' + e.message, true);
    }
  }

  function addPoint(p) {
    const pts = S.series.get(p.connector) || [];
    pts.push({ t: p.t, powerW: p.powerW, offeredA: p.offeredA });
    const oldest = Date.now() + S.skewMs - S.lengthMs;
    while (pts.length && pts[0].t < oldest) pts.shift();
    S.series.set(p.connector, pts);
    drawChart(p.connector);
  }

  function redrawCharts() {
    for (const id of S.cards.keys()) drawChart(id);
  }

  // niceMax rounds a maximum up to 1, 2 or 5 times a power of ten.
  function niceMax(v) {
    const e = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (v <= m * e) return m * e;
    return 10 * e;
  }

  const SVG = 'http://www.w3.org/2000/svg';
  function svgEl(name, attrs, text) {
    const e = document.createElementNS(SVG, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function drawChart(id) {
    const c = S.cards.get(id);
    if (!c || $('view-live').hidden) return;
    const svg = c.f.chart;
    const W = Math.max(svg.clientWidth || 600, 200), H = 160;
    const L = 46, R = 40, T = 10, B = 18;
    const span = Math.min(S.lengthMs, Number(c.f.range.value) * 1000 || S.lengthMs);
    const now = Date.now() + S.skewMs, from = now - span;
    const pts = (S.series.get(id) || []).filter((p) => p.t >= from);
    const live = S.status && S.status.connectors.find((x) => x.id === id);
    if (live) pts.push({ t: now, powerW: live.meter.powerW, offeredA: live.offeredA });
    const kw = niceMax(Math.max(1, ...pts.map((p) => p.powerW / 1000)));
    const amps = niceMax(Math.max(6, live ? live.limitA : 0, ...pts.map((p) => p.offeredA)));
    const x = (t) => L + (t - from) / span * (W - L - R);
    const y = (v, top) => T + (1 - v / top) * (H - T - B);
    const path = (val, top) => {
      let d = '', prev = null;
      for (const p of pts) {
        const gap = prev === null || p.t - prev > 2.5 * S.stepMs;
        d += (gap ? 'M' : 'L') + x(p.t).toFixed(1) + ' ' + y(val(p), top).toFixed(1);
        prev = p.t;
      }
      return d;
    };
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.replaceChildren();
    for (let i = 0; i <= 4; i++) {
      const gy = y(i / 4, 1);
      svg.append(svgEl('line', { class: 'grid-line', x1: L, x2: W - R, y1: gy, y2: gy }));
      const unit = i === 4 ? [' kW', ' A'] : ['', ''];
      svg.append(svgEl('text', { class: 'axis', x: L - 4, y: gy + 4, 'text-anchor': 'end' }, +(kw * i / 4).toFixed(2) + unit[0]));
      svg.append(svgEl('text', { class: 'axis', x: W - R + 4, y: gy + 4 }, +(amps * i / 4).toFixed(1) + unit[1]));
    }
    const mins = span / 60000, ticks = W < 420 ? 2 : 4;
    for (let i = 0; i <= ticks; i++) {
      const m = mins * i / ticks;
      svg.append(svgEl('text', { class: 'axis', x: x(from + m * 60000), y: H - 4, 'text-anchor': i === 0 ? 'start' : i === ticks ? 'end' : 'middle' },
        i === ticks ? 'now' : '-' + +(mins - m).toFixed(1) + ' min'));
    }
    if (pts.length) {
      svg.append(svgEl('path', { class: 'offered', d: path((p) => p.offeredA, amps) }));
      svg.append(svgEl('path', { class: 'power', d: path((p) => p.powerW / 1000, kw) }));
    }
  }
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(redrawCharts, 150);
  });

  // ---- commissioning -----------------------------------------------------

  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.append(td);
    return td;
  }

  async function loadCommissioning() {
    const out = $('comm-result');
    out.className = 'result';
    out.textContent = 'Loading…';
    try {
      const v = await api('GET', '/api/v1/commissioning');
      S.commLoaded = true;
      out.textContent = '';
      $('comm-board').textContent = v.board.name || '—';
      $('comm-desc').textContent = v.board.description || '—';
      $('comm-sim').textContent = v.board.simulated ? 'yes' : 'no';
      $('comm-version').textContent = v.version || '—';
      $('comm-file').textContent = v.board.file || '(no board file)';
      const hw = $('comm-hw').tBodies[0];
      hw.replaceChildren();
      for (const c of v.board.connectors) {
        const tr = document.createElement('tr');
        cell(tr, c.id);
        cell(tr, c.maxCurrentA + ' A');
        cell(tr, c.phases);
        cell(tr, c.lock ? 'yes' : 'no');
        cell(tr, c.rcd ? 'yes' : 'no');
        cell(tr, c.meter || 'none', 'wrap');
        const td = cell(tr, '', 'wrap');
        const res = document.createElement('span');
        res.className = 'result';
        if (c.meter) td.append(testButton('Test meter', c.id, 'test-meter', res));
        if (c.rcd) td.append(testButton('Test RCD', c.id, 'test-rcd', res));
        td.append(res);
        hw.append(tr);
      }
      renderReadings(v.readings);
      $('comm-config').textContent = JSON.stringify(v.config, null, 2);
      $('comm-keys-error').textContent = v.ocppKeysError || '';
      const keys = $('comm-keys').tBodies[0];
      keys.replaceChildren();
      for (const k of v.ocppKeys) {
        const tr = document.createElement('tr');
        cell(tr, k.key);
        cell(tr, k.value === null ? '(write-only)' : k.value, 'wrap');
        cell(tr, k.readonly ? 'read-only' : 'read-write');
        keys.append(tr);
      }
      $('logs').replaceChildren();
      S.logSeq = 0;
      v.logs.forEach(addLog);
    } catch (e) {
      out.className = 'result error';
      out.textContent = 'Could not load: ' + e.message;
    }
  }
  $('comm-refresh').addEventListener('click', loadCommissioning);

  function renderReadings(list) {
    const body = $('comm-readings').tBodies[0];
    body.replaceChildren();
    for (const r of list) {
      const tr = document.createElement('tr');
      cell(tr, r.connector);
      cell(tr, r.time && !r.time.startsWith('0001') ? new Date(r.time).toLocaleTimeString() : 'never');
      cell(tr, fmt.kwh(r.energyWh));
      cell(tr, fmt.power(r.powerW));
      cell(tr, r.voltageV.map((v) => v.toFixed(0)).join(' / ') + ' V');
      cell(tr, r.currentA.map((a) => a.toFixed(1)).join(' / ') + ' A');
      cell(tr, r.frequencyHz ? r.frequencyHz.toFixed(2) + ' Hz' : '—');
      body.append(tr);
    }
  }

  function testButton(label, n, what, res) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'small';
    b.textContent = label;
    b.addEventListener('click', async () => {
      b.disabled = true;
      res.className = 'result';
      res.textContent = ' ' + label + '…';
      try {
        const r = await api('POST', '/api/v1/connectors/' + n + '/' + what);
        res.className = 'result ok';
        res.textContent = ' ' + label + ': passed in ' + r.tookMs.toFixed(1) + ' ms' +
          (r.reading ? ', ' + fmt.power(r.reading.powerW) + ', ' + fmt.kwh(r.reading.energyWh) : '');
      } catch (e) {
        res.className = 'result error';
        res.textContent = ' ' + label + ' failed: ' + e.message;
      } finally {
        b.disabled = false;
      }
    });
    return b;
  }

  function addLog(l) {
    if (l.seq <= S.logSeq) return;
    S.logSeq = l.seq;
    const li = document.createElement('li');
    li.className = l.level;
    li.textContent = new Date(l.time).toLocaleTimeString() + ' ' + l.level + ' ' + l.msg + (l.attrs ? ' ' + l.attrs : '');
    const list = $('logs');
    list.append(li);
    while (list.children.length > 300) list.firstElementChild.remove();
  }

  boot();
})();
