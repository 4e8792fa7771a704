/* The transfer builder: autosave, a copy on this device while offline, "start from this example"
 * and the live preview. The page works without it (Save posts the form); this makes saving
 * continuous and the preview live. Text goes into the page with textContent only. */
(function () {
  'use strict';

  var dataEl = document.getElementById('builder-data');
  var form = document.getElementById('builder-form');
  if (!dataEl || !form) return;
  var data = JSON.parse(dataEl.textContent);
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content;
  var statusEl = document.getElementById('save-status');
  var revInput = document.getElementById('builder-rev');
  var storeKey = 'onramp-draft-' + data.submissionId;
  var answers = data.answers || {};
  var rev = data.rev;
  var timer = null;
  var saving = false;
  var again = false;
  var retryMs = 2000;
  var conflict = false;

  function say(text, bad) {
    if (!statusEl) return;
    statusEl.textContent = text;
    statusEl.className = bad ? 'bad' : 'muted';
  }

  function valueOf(input) {
    var type = input.getAttribute('data-type');
    if (type === 'boolean') return input.checked;
    if (type === 'list') return input.value.split(/\r?\n/);
    if (type === 'number') return input.value.trim() === '' ? undefined : Number(input.value);
    return input.value;
  }

  function readInputs() {
    var inputs = form.querySelectorAll('[data-field]');
    for (var i = 0; i < inputs.length; i++) {
      var v = valueOf(inputs[i]);
      if (v === undefined) delete answers[inputs[i].getAttribute('data-field')];
      else answers[inputs[i].getAttribute('data-field')] = v;
    }
  }

  function keepLocal() {
    try {
      localStorage.setItem(storeKey, JSON.stringify({ rev: rev, answers: answers, at: new Date().toISOString(), pending: true }));
    } catch { /* private mode or full: the server copy is the only one */ }
  }

  function clearLocal() {
    try { localStorage.removeItem(storeKey); } catch { /* nothing to clear */ }
  }

  function save() {
    if (conflict) return;
    if (saving) { again = true; return; }
    saving = true;
    say('Saving…');
    fetch(data.saveUrl, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf, Accept: 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ rev: rev, answers: answers }),
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) { return { res: res, body: body }; });
    }).then(function (r) {
      saving = false;
      if (r.res.ok) {
        rev = r.body.rev;
        if (revInput) revInput.value = String(rev);
        retryMs = 2000;
        if (again) { again = false; keepLocal(); save(); return; }
        clearLocal();
        say('Saved at ' + new Date(r.body.savedAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
        return;
      }
      var message = (r.body && r.body.error && r.body.error.message) || ('Could not save (' + r.res.status + ').');
      if (r.res.status === 409) { conflict = true; say(message, true); return; }
      if (r.res.status === 422 || r.res.status === 400) { say(message, true); return; }
      if (r.res.status === 401 || r.res.status === 403) { say('You were signed out. Your changes are kept on this device: sign in again and reopen this page.', true); return; }
      throw new Error(message);
    }).catch(function () {
      saving = false;
      say('Offline? Your changes are kept on this device and saved when the connection is back.', true);
      setTimeout(save, retryMs);
      retryMs = Math.min(retryMs * 2, 30000);
    });
  }

  function schedule() {
    readInputs();
    keepLocal();
    renderPreview();
    clearTimeout(timer);
    timer = setTimeout(save, 800);
  }

  function renderPreview() {
    var root = document.getElementById('preview');
    if (!root) return;
    root.textContent = '';
    data.steps.forEach(function (step) {
      var section = document.createElement('section');
      section.className = 'preview-section';
      var h = document.createElement('h3');
      h.textContent = step.title;
      section.appendChild(h);
      var any = false;
      step.fields.forEach(function (f) {
        var v = answers[f.id];
        var lines = v === undefined ? [] : Array.isArray(v) ? v.filter(function (x) { return x.trim(); }) : typeof v === 'boolean' ? [v ? 'Yes' : 'No'] : [String(v)].filter(function (x) { return x.trim(); });
        if (!lines.length) return;
        any = true;
        var label = document.createElement('p');
        label.className = 'preview-label';
        label.textContent = f.label;
        section.appendChild(label);
        lines.forEach(function (line) {
          var p = document.createElement('p');
          p.className = 'preview-text';
          p.textContent = line;
          section.appendChild(p);
        });
      });
      if (!any) {
        var empty = document.createElement('p');
        empty.className = 'muted preview-empty';
        empty.textContent = 'Not written yet.';
        section.appendChild(empty);
      }
      root.appendChild(section);
    });
  }

  // a copy left on this device by a save that never reached the server: put it back, then save it
  try {
    var local = JSON.parse(localStorage.getItem(storeKey) || 'null');
    if (local && local.pending && local.rev === rev && new Date(local.at) > new Date(data.savedAt)) {
      answers = local.answers;
      var inputs = form.querySelectorAll('[data-field]');
      for (var i = 0; i < inputs.length; i++) {
        var id = inputs[i].getAttribute('data-field');
        var v = answers[id];
        if (v === undefined) continue;
        if (inputs[i].getAttribute('data-type') === 'boolean') inputs[i].checked = v === true;
        else inputs[i].value = Array.isArray(v) ? v.join('\n') : String(v);
      }
      renderPreview();
      say('Restored your unsaved changes from this device…');
      save();
    } else if (local) {
      clearLocal();
    }
  } catch { /* no storage */ }

  form.addEventListener('input', schedule);
  form.addEventListener('change', schedule);
  // leaving the step with the buttons posts the form: make it carry the latest revision
  form.addEventListener('submit', function () { readInputs(); clearLocal(); });

  var buttons = document.querySelectorAll('[data-example]');
  for (var b = 0; b < buttons.length; b++) {
    buttons[b].addEventListener('click', function (event) {
      var source = document.getElementById(event.currentTarget.getAttribute('data-example'));
      var target = form.querySelector('textarea[data-type="longText"], input[data-type="shortText"], textarea[data-type="list"]');
      if (!source || !target) return;
      var text = source.textContent.trim();
      target.value = target.value.trim() ? target.value.replace(/\s+$/, '') + '\n\n' + text : text;
      target.focus();
      schedule();
    });
  }
})();
