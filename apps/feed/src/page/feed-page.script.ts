/**
 * The page's script (plain browser JavaScript, no dependencies). It opens `/feed/stream` and loads `/feed` with the
 * filters, and merges both into one list by question id. Every field of an item only grows (answer count, last
 * activity, accepted answer once set), so the merge gives the newest state whatever arrived first; the first page is
 * loaded again each time the stream (re)opens, to pick up what happened while it was down.
 *
 * The stream is filtered by subject and grade on the server, but `answered` is applied here: a question leaves an
 * "unanswered" view when its first answer arrives, and the server sends nothing on a filter that no longer matches.
 */
export const FEED_PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var PAGE_SIZE = 20;
  var byTestId = function (id) { return document.querySelector('[data-testid="' + id + '"]'); };
  var list = byTestId('feed-list');
  var subjectInput = byTestId('filter-subject');
  var gradeSelect = byTestId('filter-grade');
  var answeredSelect = byTestId('filter-answered');
  var statusBadge = byTestId('stream-status');
  var moreButton = byTestId('load-more');
  var emptyNote = byTestId('feed-empty');
  var errorBox = byTestId('feed-error');
  var subjectsList = document.getElementById('subjects');

  var items = new Map();
  var subjects = new Set();
  var nextCursor = null;
  var morePagesLoaded = false;
  var generation = 0;
  var source = null;

  function filters() {
    return { subject: subjectInput.value.trim(), grade: gradeSelect.value, answered: answeredSelect.value };
  }
  function query(values) {
    var params = new URLSearchParams();
    Object.keys(values).forEach(function (key) { if (values[key]) params.set(key, values[key]); });
    return params.toString();
  }
  function matches(item) {
    var f = filters();
    return (!f.subject || item.subject === f.subject) && (!f.grade || String(item.grade) === f.grade) &&
      (!f.answered || String(item.answered) === f.answered);
  }
  // The API's order: newest first, ties by question id, highest first.
  function newer(a, b) {
    return a.askedAt !== b.askedAt ? a.askedAt > b.askedAt : a.questionId > b.questionId;
  }
  function merge(known, incoming) {
    if (!known) return incoming;
    var answerCount = Math.max(known.answerCount, incoming.answerCount);
    return Object.assign({}, incoming, {
      answerCount: answerCount,
      answered: answerCount > 0,
      acceptedAnswerId: incoming.acceptedAnswerId || known.acceptedAnswerId,
      lastActivityAt: known.lastActivityAt > incoming.lastActivityAt ? known.lastActivityAt : incoming.lastActivityAt,
    });
  }

  var relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  function ago(iso) {
    var seconds = (Date.parse(iso) - Date.now()) / 1000;
    var steps = [[60, 'second'], [60, 'minute'], [24, 'hour'], [7, 'day'], [4.35, 'week'], [12, 'month'], [Infinity, 'year']];
    for (var i = 0; i < steps.length; i++) {
      if (Math.abs(seconds) < steps[i][0] || i === steps.length - 1) {
        return Math.abs(seconds) < 45 && i === 0 ? 'just now' : relative.format(Math.round(seconds), steps[i][1]);
      }
      seconds /= steps[i][0];
    }
  }
  function element(tag, className, testId) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (testId) node.setAttribute('data-testid', testId);
    return node;
  }
  function build(id) {
    var li = element('li', 'item', 'feed-item');
    li.setAttribute('data-question-id', id);
    var main = element('div', 'main');
    var meta = element('div', 'meta');
    meta.append(element('span', 'chip', 'item-subject'), element('span', 'grade', 'item-grade'), element('time', 'when', 'item-time'));
    main.append(element('h2', 'title', 'item-title'), meta);
    var side = element('div', 'side');
    var accepted = element('span', 'badge', 'item-accepted');
    accepted.textContent = '\u2713 accepted';
    side.append(element('span', 'count', 'item-answer-count'), element('span', 'count-label'), accepted);
    li.append(main, side);
    li.addEventListener('animationend', function () { li.classList.remove('fresh'); });
    return li;
  }
  function part(li, testId) { return li.querySelector('[data-testid="' + testId + '"]'); }
  function fill(li, item) {
    li.setAttribute('data-answer-count', String(item.answerCount));
    li.setAttribute('data-answered', String(item.answered));
    li.setAttribute('data-accepted-answer-id', item.acceptedAnswerId || '');
    part(li, 'item-title').textContent = item.title;
    part(li, 'item-subject').textContent = item.subject;
    part(li, 'item-grade').textContent = 'Grade ' + item.grade;
    var time = part(li, 'item-time');
    time.setAttribute('datetime', item.askedAt);
    time.setAttribute('data-last-activity', item.lastActivityAt);
    time.title = 'asked ' + new Date(item.askedAt).toLocaleString() + ', last activity ' + new Date(item.lastActivityAt).toLocaleString();
    var askedAgo = ago(item.askedAt);
    var activeAgo = ago(item.lastActivityAt);
    time.textContent = 'asked ' + askedAgo + (activeAgo !== askedAgo ? ' \u00b7 active ' + activeAgo : '');
    part(li, 'item-answer-count').textContent = String(item.answerCount);
    li.querySelector('.count-label').textContent = item.answerCount === 1 ? 'answer' : 'answers';
    part(li, 'item-accepted').hidden = !item.acceptedAnswerId;
  }
  function findNode(id) {
    return list.querySelector('[data-question-id="' + CSS.escape(id) + '"]');
  }
  function remove(id) {
    var node = findNode(id);
    if (node) node.remove();
    items.delete(id);
  }
  function place(li, item) {
    var children = list.children;
    for (var i = 0; i < children.length; i++) {
      var other = items.get(children[i].getAttribute('data-question-id'));
      if (other && newer(item, other)) { list.insertBefore(li, children[i]); return; }
    }
    list.append(li);
  }
  function upsert(item, live) {
    if (!matches(item)) { remove(item.questionId); return; }
    var known = items.get(item.questionId);
    var last = list.lastElementChild && items.get(list.lastElementChild.getAttribute('data-question-id'));
    // A live change older than every loaded item while more pages exist belongs to a page not loaded yet.
    if (live && !known && nextCursor && last && newer(last, item)) return;
    var merged = merge(known, item);
    items.set(item.questionId, merged);
    var li = findNode(item.questionId);
    if (!li) { li = build(item.questionId); place(li, merged); }
    fill(li, merged);
    if (live) { li.classList.remove('fresh'); void li.offsetWidth; li.classList.add('fresh'); }
    if (!subjects.has(merged.subject)) {
      subjects.add(merged.subject);
      var option = document.createElement('option');
      option.value = merged.subject;
      subjectsList.append(option);
    }
  }
  function refreshView() {
    emptyNote.hidden = items.size > 0;
    moreButton.hidden = !nextCursor;
  }
  function showError(message) {
    errorBox.hidden = !message;
    errorBox.textContent = message || '';
  }

  function load(more) {
    var mine = generation;
    var f = filters();
    var params = query({ subject: f.subject, grade: f.grade, answered: f.answered, limit: String(PAGE_SIZE), cursor: more ? nextCursor : '' });
    moreButton.disabled = true;
    return fetch('/feed?' + params, { headers: { accept: 'application/json' } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (reply) {
        if (mine !== generation) return;
        if (!reply.ok) {
          showError([].concat(reply.body.message || 'The feed could not be loaded').join('; '));
          return;
        }
        showError('');
        if (more || !morePagesLoaded) nextCursor = reply.body.nextCursor;
        if (more) morePagesLoaded = true;
        reply.body.items.forEach(function (item) { upsert(item, false); });
      })
      .catch(function () { if (mine === generation) showError('The feed could not be loaded; is the service running?'); })
      .finally(function () { moreButton.disabled = false; refreshView(); });
  }

  function setStatus(state, text) {
    statusBadge.setAttribute('data-state', state);
    statusBadge.textContent = text;
  }
  function connect() {
    if (source) source.close();
    var f = filters();
    var mine = generation;
    setStatus('connecting', 'Connecting\u2026');
    source = new EventSource('/feed/stream?' + query({ subject: f.subject, grade: f.grade }));
    source.addEventListener('open', function () {
      if (mine !== generation) return;
      setStatus('live', 'Live');
      load(false);
    });
    source.addEventListener('item', function (event) {
      if (mine !== generation) return;
      upsert(JSON.parse(event.data), true);
      refreshView();
    });
    source.addEventListener('error', function () {
      if (mine === generation) setStatus('reconnecting', 'Reconnecting\u2026');
    });
  }

  function restart() {
    generation += 1;
    items.clear();
    list.replaceChildren();
    nextCursor = null;
    morePagesLoaded = false;
    var f = filters();
    history.replaceState(null, '', location.pathname + (query(f) ? '?' + query(f) : ''));
    connect();
    load(false);
  }

  for (var grade = 1; grade <= 12; grade++) gradeSelect.append(new Option('Grade ' + grade, String(grade)));
  var initial = new URLSearchParams(location.search);
  subjectInput.value = initial.get('subject') || '';
  gradeSelect.value = initial.get('grade') || '';
  answeredSelect.value = initial.get('answered') || '';

  var typing = 0;
  subjectInput.addEventListener('input', function () { clearTimeout(typing); typing = setTimeout(restart, 300); });
  gradeSelect.addEventListener('change', restart);
  answeredSelect.addEventListener('change', restart);
  byTestId('filters').addEventListener('submit', function (event) { event.preventDefault(); clearTimeout(typing); restart(); });
  moreButton.addEventListener('click', function () { load(true); });
  setInterval(function () { items.forEach(function (item, id) { var li = findNode(id); if (li) fill(li, item); }); }, 30000);
  restart();
})();
`;
